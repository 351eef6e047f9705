// SPDX-License-Identifier: Apache-2.0
// The cluster lesson: the guide's CPU-bound sum and its 50-page fetch on worker processes
// that reach the program only through a Redis server (weft::dist; Python: Celery or RQ on
// Redis, Dask's Client). The pages come from an HTTP server (cpp-httplib) in this process.
// The lesson starts its own redis-server (a unix socket in a temporary directory) and three
// workers (`weft-demo cluster-worker`, hidden), kills one of them in the middle of a task,
// and shows the task run again on another worker and every result accepted once. Without
// redis-server on PATH it says so and skips.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>
#include <httplib.h>
#include <weft/dist.hpp>
#include <weft/errors.hpp>

#include "tour.hpp"

extern char** environ;

namespace tour {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A worker's answer: its part of the sum and the process that computed it.
struct Partial {
  std::uint64_t sum;
  std::int64_t pid;
};

// def cpu_bound_task(n) of the guide, over [lo, hi): the sum of i * i (modulo 2^64). The
// empty asm statement keeps the loop a loop (no closed form, no vectors).
Partial sum_squares(std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t count = 0;
  for (std::uint64_t i = lo; i < hi; ++i) {
    count += i * i;
    asm volatile("" : "+r"(count));
  }
  return {count, static_cast<std::int64_t>(::getpid())};
}

// sum_squares, but first it tells where it runs (its pid into the queue `started`) and
// waits until the queue `gate` is shut down: the lesson kills its worker meanwhile.
Partial watched_sum(std::string started, std::string gate, std::uint64_t lo, std::uint64_t hi) {
  weft::dist::Queue<std::int64_t>(started).put(static_cast<std::int64_t>(::getpid()));
  try {
    weft::dist::Queue<int>(gate).get();
  } catch (const weft::ShutDown&) {
  }
  return sum_squares(lo, hi);
}

// def fetch(url): return requests.get(url).text, on 127.0.0.1:port; with the worker's pid.
std::pair<std::string, std::int64_t> fetch_page(int port, int page) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(10));
  const auto res = client.Get("/page/" + std::to_string(page));
  if (!res || res->status != 200) throw std::runtime_error("GET /page/" + std::to_string(page) + " failed");
  return {res->body, static_cast<std::int64_t>(::getpid())};
}

}  // namespace

WEFT_REMOTE(sum_squares);
WEFT_REMOTE(watched_sum);
WEFT_REMOTE(fetch_page);

namespace {

// Exit status of a worker whose parent had ended before it could tie its life to it.
constexpr int kOrphaned = 4;

// `weft-demo cluster-worker`: serves the executor at url until it is shut down (or
// SIGTERM). It dies with the lesson that started it (a parent-death signal), so a tour
// that is interrupted leaves no worker behind.
int run_cluster_worker(const std::string& url, long parent, long lease_ms) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) return kOrphaned;
  weft::dist::WorkerOptions options;
  options.threads = 1;
  options.lease = std::chrono::milliseconds(lease_ms);
  try {
    weft::dist::serve(url, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cluster-worker: %s\n", e.what());
    return 3;
  }
  return 0;
}
const bool cluster_worker_registered = (cluster_worker = run_cluster_worker, true);

// The path of program `name` on PATH, or "" if there is none.
std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/" + name;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// Starts args[0] with args; its stdout and stderr are appended to `output`. Its pid.
pid_t spawn(std::vector<std::string> args, const std::string& output) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  pid_t pid = -1;
  const int error = ::posix_spawn(&pid, argv[0], &files, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (error != 0) throw std::runtime_error("cannot start " + args[0]);
  return pid;
}

// Exit status of child `pid` (-1 if it did not exit normally); blocks until it ends.
int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A private redis-server: a unix socket in a new temporary directory, the append-only
// file with fsync on every write. Killed, and its directory removed, at destruction.
class LocalRedis {
 public:
  explicit LocalRedis(const std::string& exe) {
    std::string pattern = (std::filesystem::temp_directory_path() / "weft-demo-redis-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    std::vector<std::string> args{exe,       "--port",       "0",      "--unixsocket", socket(),
                                  "--unixsocketperm", "700", "--dir",  dir_,           "--appendonly",
                                  "yes",     "--appendfsync", "always", "--save",      "",
                                  "--daemonize", "no",       "--logfile", dir_ + "/redis.log"};
    // util-linux's setpriv, where installed, makes the server die with this process too.
    if (const std::string setpriv = find_program("setpriv"); !setpriv.empty())
      args.insert(args.begin(), {setpriv, "--pdeathsig", "KILL", "--"});
    pid_ = spawn(args, dir_ + "/redis.out");
    // Ready once it answers (a queue handle connects and pings at construction).
    for (const auto give_up = Clock::now() + 30s;; std::this_thread::sleep_for(10ms)) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis-server exited at start (see " + dir_ + "/redis.out)");
      }
      try {
        weft::dist::Queue<int> probe(url("probe"));
        return;
      } catch (const weft::dist::ConnectionError&) {
        if (Clock::now() > give_up) throw;
      }
    }
  }
  ~LocalRedis() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait_exit(pid_);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  LocalRedis(const LocalRedis&) = delete;
  LocalRedis& operator=(const LocalRedis&) = delete;

  const std::string& dir() const { return dir_; }
  std::string socket() const { return dir_ + "/redis.sock"; }
  std::string url(const std::string& name) const { return "redis+unix://" + socket() + "?name=" + name; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

// Worker processes (this program's hidden cluster-worker command); any still running at
// destruction are killed and reaped.
class WorkerProcesses {
 public:
  WorkerProcesses(std::string self, std::string url, std::string log, std::chrono::milliseconds lease)
      : self_(std::move(self)), url_(std::move(url)), log_(std::move(log)), lease_(lease) {}
  ~WorkerProcesses() {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGKILL);
      wait_exit(pid);
    }
  }
  WorkerProcesses(const WorkerProcesses&) = delete;
  WorkerProcesses& operator=(const WorkerProcesses&) = delete;

  pid_t start() {
    pids_.push_back(spawn({self_, "cluster-worker", "--url", url_, "--parent", std::to_string(::getpid()),
                           "--lease-ms", std::to_string(lease_.count())},
                          log_));
    return pids_.back();
  }
  // Sends SIGKILL to the worker and waits for it to end.
  void kill(pid_t pid) {
    ::kill(pid, SIGKILL);
    forget(pid);
    wait_exit(pid);
  }
  // Waits up to `limit` for the worker to end by itself; its exit status (-1: it did not
  // exit normally, or not in time: then it is killed).
  int wait_for_exit(pid_t pid, std::chrono::seconds limit) {
    int status = 0;
    for (const auto give_up = Clock::now() + limit; ::waitpid(pid, &status, WNOHANG) != pid;
         std::this_thread::sleep_for(10ms)) {
      if (Clock::now() > give_up) {
        kill(pid);
        return -1;
      }
    }
    forget(pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::vector<pid_t> pids() const { return pids_; }

 private:
  void forget(pid_t pid) { pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end()); }

  std::string self_, url_, log_;
  std::chrono::milliseconds lease_;
  std::vector<pid_t> pids_;
};

// An HTTP server on 127.0.0.1 (a free port) whose /page/N takes `delay` and answers
// "page N", served by a thread of this process until destruction.
class PageServer {
 public:
  explicit PageServer(std::chrono::milliseconds delay) {
    server_.Get(R"(/page/(\d+))", [delay](const httplib::Request& req, httplib::Response& res) {
      std::this_thread::sleep_for(delay);  // a slow backend
      res.set_content("page " + req.matches[1].str(), "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("cannot bind a port on 127.0.0.1");
    serving_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~PageServer() {
    server_.stop();
    serving_.join();
  }
  PageServer(const PageServer&) = delete;
  PageServer& operator=(const PageServer&) = delete;
  int port() const { return port_; }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread serving_;
};

// Shuts the queue at gate_url down (which releases watched_sum).
void open_gate(const std::string& gate_url) { weft::dist::Queue<int>(gate_url).shutdown(); }
struct GateOpener {
  std::string url;
  ~GateOpener() {
    try {
      open_gate(url);
    } catch (const std::exception&) {  // the server is gone: nothing waits there any more
    }
  }
};

void cluster(Lesson& L) {
  constexpr std::uint64_t n = 10'000'000;  // the guide's cpu_bound_task(10**7)
  constexpr int kChunks = 12;
  constexpr int kWorkers = 3;
  constexpr auto kLease = 1000ms;  // a silent worker's task is taken back after this
  L.python({"# Celery on Redis, 3 workers, acks_late=True", "sum of i*i, i < 10000000: <sum>",
            "12 tasks on <up to 3> worker processes", "50 of 50 pages fetched by <up to 3> workers",
            "killed worker <pid> mid-task", "task re-run on worker <pid>", "one result, from worker <pid>",
            "results accepted: 63 of 63 tasks"});
  L.explain("weft::dist gives the Executor and Queue surfaces across processes and machines through "
            "a Redis server: functions registered with WEFT_REMOTE travel by name, workers run "
            "weft::dist::serve, results come back as weft::Futures. A task runs at least once and "
            "exactly one result is accepted: a worker that dies mid-task has the task taken back "
            "after its lease (here 1 s) by another worker. This lesson runs its own redis-server on "
            "a unix socket, three workers on this machine and the HTTP server (cpp-httplib) whose "
            "50 pages they fetch; docs/distributed.md shows workers on "
            "other machines. The sum is modulo 2^64, as in the gil lesson.");
  L.expect_seconds(5);
  const std::string exe = find_program("redis-server");
  if (exe.empty()) {
    L.print("redis-server is not installed: no cluster to run");
    L.skip("cluster: redis-server is not installed (Debian: apt-get install redis-server)");
    return;
  }

  LocalRedis redis(exe);
  const std::string url = redis.url("sums");
  WorkerProcesses workers(L.settings().self_path, url, redis.dir() + "/workers.log", kLease);
  for (int i = 0; i < kWorkers; ++i) workers.start();
  const auto started_at = Clock::now();
  weft::dist::Executor ex(url);

  // The guide's sum in chunks, across the workers.
  std::vector<weft::Future<Partial>> parts;
  for (int i = 0; i < kChunks; ++i)
    parts.push_back(ex.submit(sum_squares, n * static_cast<std::uint64_t>(i) / kChunks,
                              n * static_cast<std::uint64_t>(i + 1) / kChunks));
  std::uint64_t total = 0;
  std::map<std::int64_t, int> tasks_per_worker;
  for (auto& f : parts) {
    const Partial p = f.result(60s);
    total += p.sum;
    ++tasks_per_worker[p.pid];
  }
  const double sum_seconds = seconds_since(started_at);
  const std::uint64_t expected = sum_squares(0, n).sum;
  L.print(fmt("sum of i*i, i < %llu: %llu", static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(total)));
  L.print(fmt("%d tasks on %zu worker processes, %.2f s", kChunks, tasks_per_worker.size(), sum_seconds));
  for (const auto& [pid, count] : tasks_per_worker)
    L.print(fmt("  worker %lld ran %d", static_cast<long long>(pid), count));

  // The guide's I/O-bound application: 50 pages fetched by the workers.
  constexpr int kPages = 50;
  int good_pages = 0;
  double fetch_seconds = 0;
  std::map<std::int64_t, int> pages_per_worker;
  {
    PageServer pages(L.quick() ? 10ms : 100ms);
    const auto fetch_start = Clock::now();
    std::vector<weft::Future<std::pair<std::string, std::int64_t>>> fetched;
    for (int i = 0; i < kPages; ++i) fetched.push_back(ex.submit(fetch_page, pages.port(), i));
    for (int i = 0; i < kPages; ++i) {
      const auto [body, pid] = fetched[static_cast<std::size_t>(i)].result(60s);
      good_pages += body == "page " + std::to_string(i) ? 1 : 0;
      ++pages_per_worker[pid];
    }
    fetch_seconds = seconds_since(fetch_start);
  }
  L.print(fmt("%d of %d pages fetched by %zu workers, %.2f s", good_pages, kPages, pages_per_worker.size(),
              fetch_seconds));

  // A worker killed in the middle of a task.
  const std::string started_url = redis.url("started"), gate_url = redis.url("gate");
  weft::dist::Queue<std::int64_t> started(started_url);
  auto watched = ex.submit(watched_sum, started_url, gate_url, std::uint64_t{0}, n);
  const GateOpener open_gate_on_every_way_out{gate_url};  // the executor's shutdown waits for it
  const auto first = static_cast<pid_t>(started.get(60s));
  workers.kill(first);
  const auto killed_at = Clock::now();
  L.print(fmt("killed worker %d mid-task", static_cast<int>(first)));
  const auto second = static_cast<pid_t>(started.get(60s));
  const double rerun_after = seconds_since(killed_at);
  L.print(fmt("task re-run on worker %d", static_cast<int>(second)));
  L.print(fmt("  %.2f s after the kill (lease %.1f s)", rerun_after, static_cast<double>(kLease.count()) / 1000));
  open_gate(gate_url);
  const Partial rerun = watched.result(60s);
  L.print(fmt("one result, from worker %lld", static_cast<long long>(rerun.pid)));

  ex.shutdown();  // the executor is gone from the server: the workers' serve() returns
  const std::size_t accepted = weft::dist::detail::ExecutorAccess::replies_received(ex);
  constexpr int kTasks = kChunks + kPages + 1;
  L.print(fmt("results accepted: %zu of %d tasks", accepted, kTasks));
  std::string exits;
  bool workers_left_cleanly = true;
  for (pid_t pid : workers.pids()) {
    const int status = workers.wait_for_exit(pid, 60s);
    workers_left_cleanly = workers_left_cleanly && status == 0;
    exits += fmt(" %d", status);
  }

  L.check("the cluster's sum equals the sum computed here", total == expected,
          fmt("%llu", static_cast<unsigned long long>(total)));
  L.check("the tasks ran in other processes", !tasks_per_worker.empty() && !tasks_per_worker.count(::getpid()),
          fmt("%zu worker process(es)", tasks_per_worker.size()));
  L.check("a worker killed mid-task: the task runs again on another worker",
          second != first && rerun.pid == second, fmt("%.2f s after the kill", rerun_after));
  L.check("the re-run task's result is right", rerun.sum == expected);
  L.check("every page arrives, once, with its own text", good_pages == kPages,
          fmt("%d of %d pages", good_pages, kPages));
  L.check("every result is accepted exactly once", accepted == static_cast<std::size_t>(kTasks),
          fmt("%zu results for %d tasks", accepted, kTasks));
  L.check("the other workers return when the executor shuts down (exit 0)", workers_left_cleanly,
          "exit status" + exits);
}

}  // namespace

TOUR_LESSON("cluster", cluster);

}  // namespace tour
