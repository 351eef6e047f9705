// SPDX-License-Identifier: Apache-2.0
// weft::dist against redis-benchmark on the same private redis-server, in the same run.
//
// Starts its own server (unix socket in a temporary directory, appendonly yes with
// appendfsync always, as the tests), runs redis-benchmark (single client, and pipelined)
// for the floor, then weft's Queue, batches, Executor with two worker processes, memory
// per queued item and one task's round trip. Prints a Markdown table.
// Usage: weft_dist_bench [N]   (N operations per measurement, default 20000)
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "redis_server.hpp"
#include "weft/dist.hpp"
#include "workers.hpp"

namespace {

using Clock = std::chrono::steady_clock;

int noop(int x) { return x; }

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// redis-benchmark's requests per second for one test (its --csv output), or 0.
double redis_benchmark(const weft_test::RedisServer& server, int n, const std::string& args) {
  const std::string cmd = "redis-benchmark -s " + server.socket() + " -c 1 -n " + std::to_string(n) +
                          " --csv " + args + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return 0;
  char line[512];
  double rps = 0;
  while (std::fgets(line, sizeof line, p) != nullptr) {
    // "LPUSH","43478.26",...  (the header line starts with "test")
    const std::string s = line;
    if (s.rfind("\"test\"", 0) == 0) continue;
    const std::size_t a = s.find("\",\"");
    if (a != std::string::npos) rps = std::atof(s.c_str() + a + 3);
  }
  ::pclose(p);
  return rps;
}

long used_memory(const weft_test::RedisServer& server) {
  weft::dist::detail::Connection c(server.endpoint());
  auto r = c.checked({"INFO", "memory"});
  const std::string_view info = weft::dist::detail::text(r.get());
  const std::size_t at = info.find("used_memory:");
  return at == std::string_view::npos ? 0 : std::atol(info.data() + at + 12);
}

void row(const char* what, double value, const char* unit, const std::string& note = {}) {
  std::printf("| %s | %.0f %s | %s |\n", what, value, unit, note.c_str());
}

}  // namespace

WEFT_REMOTE(noop);

int main(int argc, char** argv) {
  weft_test::run_worker_from_environment();  // the worker processes are this program too
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  if (weft_test::redis_server_path().empty()) {
    std::puts("redis-server is not installed: nothing measured");
    return 0;
  }
  weft_test::RedisServer server;

  // The floor: redis-benchmark, one client.
  const double lpush = redis_benchmark(server, n, "LPUSH benchlist x");
  const double rpop = redis_benchmark(server, n, "RPOP benchlist");
  const double lpush_p16 = redis_benchmark(server, n * 5, "-P 16 LPUSH benchlist2 x");
  const double xadd = redis_benchmark(server, n, "XADD benchstream '*' f v");
  const double pair_floor = 1.0 / (1.0 / lpush + 1.0 / rpop);  // LPUSH+RPOP pairs per second

  // Queue put+get, one client.
  weft::dist::Queue<int> q(server.url("bench"));
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    q.put(i);
    (void)q.get();
  }
  const double pairs = n / seconds_since(t0);

  // Single puts vs put_many / get_many (batches of 256).
  weft::dist::Queue<int> b(server.url("batch"));
  t0 = Clock::now();
  for (int i = 0; i < n; ++i) b.put(i);
  const double single_puts = n / seconds_since(t0);
  while (!b.get_many(4096, std::chrono::seconds(0)).empty()) {
  }
  std::vector<int> batch(256);
  const int batches = std::max(1, n * 5 / 256);
  t0 = Clock::now();
  for (int k = 0; k < batches; ++k) b.put_many(std::span<const int>(batch));
  const double many_puts = batches * 256.0 / seconds_since(t0);
  t0 = Clock::now();
  std::size_t got = 0;
  while (got < static_cast<std::size_t>(batches) * 256) got += b.get_many(256).size();
  const double many_gets = static_cast<double>(got) / seconds_since(t0);

  // Memory per queued item (small items: an int).
  const long before = used_memory(server);
  weft::dist::Queue<int> m(server.url("memory"));
  std::vector<int> items(1000, 7);
  for (int k = 0; k < 100; ++k) m.put_many(std::span<const int>(items));
  const double per_item = static_cast<double>(used_memory(server) - before) / 100000.0;

  // Executor: two worker processes, trivial tasks.
  weft::dist::WorkerOptions options;
  weft_test::Workers workers(server.url("ex"), options, 2, {});
  weft::dist::Executor ex(server.url("ex"));
  ex.submit(noop, 0).result();  // workers up
  const int tasks = std::max(1, n / 2);
  t0 = Clock::now();
  std::vector<weft::Future<int>> fs;
  fs.reserve(static_cast<std::size_t>(tasks));
  for (int i = 0; i < tasks; ++i) fs.push_back(ex.submit(noop, i));
  for (auto& f : fs) f.result();
  const double tasks_per_s = tasks / seconds_since(t0);

  // One task's round trip (submit to result), sequential.
  std::vector<double> rtt;
  for (int i = 0; i < 500; ++i) {
    t0 = Clock::now();
    ex.submit(noop, i).result();
    rtt.push_back(seconds_since(t0) * 1e6);
  }
  std::sort(rtt.begin(), rtt.end());
  ex.shutdown();
  for (pid_t pid : std::vector<pid_t>(workers.pids())) workers.reap(pid);

  std::printf("| measurement | value | compared with |\n|---|---|---|\n");
  row("redis-benchmark LPUSH, 1 client", lpush, "req/s");
  row("redis-benchmark RPOP, 1 client", rpop, "req/s");
  row("redis-benchmark LPUSH, 1 client, pipeline 16", lpush_p16, "req/s");
  row("redis-benchmark XADD, 1 client", xadd, "req/s");
  char note[160];
  std::snprintf(note, sizeof note, "%.2fx the LPUSH+RPOP pair rate (%.0f pairs/s)", pairs / pair_floor, pair_floor);
  row("Queue put+get pairs, 1 client", pairs, "pairs/s", note);
  row("Queue put, 1 client", single_puts, "items/s");
  std::snprintf(note, sizeof note, "%.1fx single puts", many_puts / single_puts);
  row("Queue put_many (256 per call)", many_puts, "items/s", note);
  std::snprintf(note, sizeof note, "%.1fx single puts", many_gets / single_puts);
  row("Queue get_many (256 per call)", many_gets, "items/s", note);
  row("server memory per queued int", per_item, "bytes", "list element + id in the unfinished set");
  std::snprintf(note, sizeof note, "%.2fx the XADD rate (within 5x: %s)", tasks_per_s / xadd,
                tasks_per_s * 5 >= xadd ? "yes" : "no");
  row("Executor tasks, 2 workers", tasks_per_s, "tasks/s", note);
  std::snprintf(note, sizeof note, "p99 %.0f us", rtt[rtt.size() * 99 / 100]);
  row("one task's round trip, median", rtt[rtt.size() / 2], "us", note);
  return 0;
}
