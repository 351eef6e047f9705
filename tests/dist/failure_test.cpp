// SPDX-License-Identifier: Apache-2.0
// dist failures on loopback: workers killed or paused mid-task, a poison task, the server
// killed and restarted or paused, bad addresses, wrong passwords, a server that is not
// Redis. Every wait is on a trigger (a "started" marker in a queue, a child's exit, a
// client seen waiting on the server); the only sleeps make a pause outlast a lease.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "redis_server.hpp"
#include "support/blocking.hpp"
#include "support/scope_exit.hpp"
#include "weft/dist.hpp"
#include "workers.hpp"

namespace {

using namespace std::chrono_literals;
using weft::dist::ConnectionError;
using weft::dist::Executor;
using weft::dist::Queue;
using weft::dist::WorkerOptions;
using Clock = std::chrono::steady_clock;

int triple(int x) { return 3 * x; }
int crash(int) {
  ::raise(SIGKILL);  // a poison task: kills whichever worker runs it
  return 0;
}

}  // namespace

WEFT_REMOTE(triple);
WEFT_REMOTE(crash);
WEFT_REMOTE(weft_test::gated);

namespace {

WorkerOptions leased(std::chrono::milliseconds lease, std::size_t threads = 1, std::size_t max_deliveries = 3) {
  WorkerOptions o;
  o.threads = threads;
  o.lease = lease;
  o.max_deliveries = max_deliveries;
  return o;
}

// Two workers (lease 500 ms) and one gated task that has started on one of them.
struct GatedTaskOnTwoWorkers {
  explicit GatedTaskOnTwoWorkers(int x)
      : workers(server.url("ex"), leased(500ms), 2),
        ex(server.url("ex")),
        started(server.url("started")),
        result(ex.submit(weft_test::gated, server.url("started"), server.url("gate"), x)),
        runner(started.get(60s)) {}
  void open_gate() { Queue<int>(server.url("gate")).shutdown(); }
  // Shuts the executor down once its workers ended; the replies it read (the results the
  // server accepted).
  std::size_t replies() {
    ex.shutdown();
    return weft::dist::detail::ExecutorAccess::replies_received(ex);
  }

  weft_test::RedisServer server;
  weft_test::Workers workers;
  Executor ex;
  Queue<int> started;
  weft::Future<int> result;
  pid_t runner;  // the worker the task started on
};

// A worker killed mid-task: the task is taken back after the lease and completes on the
// other worker; exactly one result arrives.
TEST(DistFailure, WorkerKilledMidTaskCompletesElsewhereOnce) {
  WEFT_REQUIRE_REDIS();
  GatedTaskOnTwoWorkers run(5);
  run.workers.kill9(run.runner);
  const pid_t second = run.started.get(60s);  // the other worker took it back
  EXPECT_NE(second, run.runner);
  run.open_gate();
  EXPECT_EQ(run.result.result(60s), 10);
  EXPECT_EQ(run.workers.terminate(second), 0);
  EXPECT_EQ(run.replies(), 1u);
}

// A worker paused past its lease: the task runs again elsewhere and that result is
// accepted; when the paused worker resumes and finishes, its result is refused.
TEST(DistFailure, SilentWorkersLateResultIsRefused) {
  WEFT_REQUIRE_REDIS();
  GatedTaskOnTwoWorkers run(6);
  ::kill(run.runner, SIGSTOP);
  const pid_t other = run.started.get(60s);
  EXPECT_NE(other, run.runner);
  run.open_gate();
  EXPECT_EQ(run.result.result(60s), 12);
  ::kill(run.runner, SIGCONT);
  // Both runs end (SIGTERM lets each finish and write its result) before counting.
  EXPECT_EQ(run.workers.terminate(run.runner), 0);
  EXPECT_EQ(run.workers.terminate(other), 0);
  EXPECT_EQ(run.replies(), 1u);
}

// A task that kills every worker that runs it: after max_deliveries it goes to the
// dead-letter stream and its future fails with WorkerLost. Dead workers are replaced.
TEST(DistFailure, PoisonTaskIsDeadLetteredWithWorkerLost) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  weft_test::Workers workers(server.url("ex"), leased(300ms, 1, 2));
  workers.start();
  Executor ex(server.url("ex"));
  auto f = ex.submit(crash, 1);
  int deaths = 0;
  const auto give_up = Clock::now() + 100s;
  while (!f.done() && Clock::now() < give_up) {
    if (workers.ended() > 0) {
      ++deaths;
      workers.start();
    }
    try {
      f.exception(50ms);  // paces the loop: returns when done, else TimeoutError
    } catch (const weft::TimeoutError&) {
    }
  }
  ASSERT_TRUE(f.done());
  EXPECT_THROW(f.result(60s), weft::dist::WorkerLost);
  EXPECT_EQ(deaths, 2);  // delivered twice, dead-lettered at the third look
  auto c = weft::dist::detail::Connection(server.endpoint());
  EXPECT_EQ(weft::dist::detail::integer(c.checked({"XLEN", "weft:x:{ex}:dead"}).get()), 1);
  EXPECT_EQ(ex.submit(triple, 2).result(60s), 6);  // the executor keeps serving
}

// The server killed with SIGKILL and restarted on the same directory: what was
// acknowledged (puts, submits, a delivered task) is still there and completes.
TEST(DistFailure, ServerKilledAndRestartedLosesNothingAcknowledged) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Queue<int> q(server.url("q"));
  for (int i = 0; i < 20; ++i) q.put(i);
  weft_test::Workers workers(server.url("ex"), leased(500ms));
  const pid_t worker = workers.start();
  Executor ex(server.url("ex"));
  Queue<int> started(server.url("started"));
  auto running = ex.submit(weft_test::gated, server.url("started"), server.url("gate"), 7);
  ASSERT_EQ(started.get(60s), worker);
  std::vector<weft::Future<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(ex.submit(triple, i));

  server.kill9();
  server.start();

  EXPECT_EQ(q.qsize(), 20u);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(q.get(), i);
  Queue<int>(server.url("gate")).shutdown();
  EXPECT_EQ(running.result(60s), 14);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(queued[static_cast<std::size_t>(i)].result(60s), 3 * i);
  EXPECT_EQ(workers.terminate(worker), 0);
  EXPECT_TRUE(started.empty());  // the running task was not run again
}

// The fields of each client of the server (CLIENT LIST), by name.
std::vector<std::map<std::string, std::string>> clients(weft_test::RedisServer& server) {
  weft::dist::detail::Connection c(server.endpoint());
  const auto r = c.checked({"CLIENT", "LIST"});
  std::istringstream lines{std::string(weft::dist::detail::text(r.get()))};
  std::vector<std::map<std::string, std::string>> out;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    auto& fields = out.emplace_back();
    for (std::string word; words >> word;)
      if (const auto eq = word.find('='); eq != std::string::npos) fields[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return out;
}

// How many clients that connected after client `after` wait in a group read (worker
// threads waiting for a task).
int waiting_group_reads(weft_test::RedisServer& server, long long after) {
  int n = 0;
  for (auto& c : clients(server))
    if (std::stoll(c["id"]) > after && c["cmd"] == "xreadgroup" && c["flags"].find('b') != std::string::npos) ++n;
  return n;
}

// Polls `done` every 5 ms until it returns true (then true) or 60 s passed (then false).
template <class Done>
bool poll_until(Done done) {
  return weft::testing::poll_until(done, weft::testing::kPollLimit, 5ms);
}

// The server paused (SIGSTOP) longer than the lease, and the worker that runs two tasks
// silent as long (SIGSTOP too): calls fail within their timeout plus the budget instead
// of hanging, and after SIGCONT everything works again. What the pause must not cause is
// a mass re-delivery: right after an outage every task looks abandoned (no lease could be
// renewed), so a worker takes tasks back only after a whole lease of prompt answers, which
// gives the live workers that time to renew. Here the other worker is seen waiting for
// work again after the outage while the tasks' worker is still stopped; it must not have
// taken them back (a worker that reaps at once takes them before it waits).
TEST(DistFailure, ServerPausedCallsFailInTimeThenRecoverWithoutRedelivery) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  constexpr int kBudgetMs = 1000;
  constexpr auto kLease = 3000ms;  // the tasks' worker has a lease to renew after the outage
  auto url = [&](const char* name) { return server.url(name, kBudgetMs); };
  weft_test::Workers workers(url("ex"), leased(kLease, 2));
  const pid_t runner = workers.start();
  Executor ex(url("ex"));
  // The markers and the gate get a long budget: under load a 1 s budget can run out
  // before the pause, and a lost marker would leave nothing to wait for.
  const std::string started_url = server.url("started", 20000), gate_url = server.url("gate", 20000);
  Queue<int> started(started_url);
  Queue<int> probe(url("probe"));
  auto f1 = ex.submit(weft_test::gated, started_url, gate_url, 1);
  auto f2 = ex.submit(weft_test::gated, started_url, gate_url, 2);
  weft::testing::ScopeExit release([&] {  // whatever fails, the tasks can end
    ::kill(runner, SIGCONT);
    server.resume();
    try {
      Queue<int>(gate_url).shutdown();
    } catch (const ConnectionError&) {
    }
  });
  ASSERT_EQ(started.get(60s), runner);
  ASSERT_EQ(started.get(60s), runner);
  const pid_t other = workers.start();
  ASSERT_TRUE(poll_until([&] { return waiting_group_reads(server, 0) >= 2; }));  // the other is up
  const long long before_pause =
      weft::dist::detail::integer(weft::dist::detail::Connection(server.endpoint()).checked({"CLIENT", "ID"}).get());

  ::kill(runner, SIGSTOP);
  server.pause();
  const auto paused_at = Clock::now();
  {
    // Each call ends within its own timeout plus the budget (generous slack for a
    // loaded machine; the point is that none hangs).
    const auto limit = 10s;
    auto t0 = Clock::now();
    EXPECT_THROW(probe.get(100ms), ConnectionError);
    EXPECT_LT(Clock::now() - t0, limit);
    t0 = Clock::now();
    EXPECT_THROW(probe.put(1), ConnectionError);
    EXPECT_LT(Clock::now() - t0, limit);
    t0 = Clock::now();
    EXPECT_THROW(ex.submit(triple, 1), ConnectionError);
    EXPECT_LT(Clock::now() - t0, limit);
    EXPECT_THROW(f1.result(50ms), weft::TimeoutError);
    EXPECT_THROW(Queue<int>(url("fresh")), ConnectionError);
  }
  // The outage outlasts the lease, so both tasks look abandoned when the server is back.
  std::this_thread::sleep_until(paused_at + kLease + 500ms);
  server.resume();

  // Until the other worker's two threads wait for work again (on connections opened
  // after the outage), or a task ran again.
  bool other_waits = false;
  EXPECT_TRUE(poll_until([&] {
    other_waits = waiting_group_reads(server, before_pause) >= 2;
    return other_waits || started.qsize() > 0;
  }));
  ::kill(runner, SIGCONT);  // well within a lease of the other worker's return
  EXPECT_TRUE(other_waits);
  EXPECT_EQ(started.qsize(), 0u) << "a live worker's task was taken back right after the outage";
  {
    // Both tasks are still delivered once, to the worker that runs them.
    auto c = weft::dist::detail::Connection(server.endpoint());
    const auto pending = c.checked({"XPENDING", "weft:x:{ex}:tasks", "weft", "-", "+", "10"});
    ASSERT_EQ(weft::dist::detail::array_size(pending.get()), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
      const auto* entry = weft::dist::detail::element(pending.get(), i);
      EXPECT_NE(weft::dist::detail::text(weft::dist::detail::element(entry, 1)).find(":" + std::to_string(runner) + ":"),
                std::string_view::npos);
      EXPECT_EQ(weft::dist::detail::integer(weft::dist::detail::element(entry, 3)), 1);
    }
  }

  probe.put(2);
  EXPECT_EQ(ex.submit(triple, 3).result(60s), 9);
  Queue<int>(gate_url).shutdown();
  EXPECT_EQ(f1.result(60s), 2);
  EXPECT_EQ(f2.result(60s), 4);
  EXPECT_EQ(workers.terminate(runner), 0);
  EXPECT_EQ(workers.terminate(other), 0);
  EXPECT_EQ(started.qsize(), 0u);  // no task ran twice
}

TEST(DistFailure, UnreachableServerIsConnectionError) {
  EXPECT_THROW(Queue<int>("redis+unix:///nonexistent-weft-dir/redis.sock?name=q&timeout=500"), ConnectionError);
  // A TCP port with nobody listening (bound, then closed).
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  const std::string url = "redis://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/q?timeout=500";
  EXPECT_THROW(Queue<int>{url}, ConnectionError);
  EXPECT_THROW(Executor{url}, ConnectionError);
  EXPECT_THROW(weft::dist::serve(url), ConnectionError);
}

TEST(DistFailure, WrongOrMissingPasswordIsConnectionError) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server({.password = "s3cret"});
  const std::string right = server.url("q");
  std::string wrong = right, none = right;
  wrong.replace(wrong.find("s3cret"), 6, "guess");
  none.erase(none.find(":s3cret@"), 8);
  try {
    Queue<int> q(wrong);
    FAIL() << "no exception";
  } catch (const ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("password"), std::string::npos) << e.what();
  }
  try {
    Queue<int> q(none);
    FAIL() << "no exception";
  } catch (const ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("password"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Executor{wrong}, ConnectionError);
  EXPECT_THROW(weft::dist::serve(wrong), ConnectionError);
  Queue<int> q(right);
  q.put(1);
  EXPECT_EQ(q.get(), 1);
}

// A TCP listener on a free loopback port: writes `greeting` to each connection (or, if
// empty, says nothing) and keeps it open until the test ends.
class FakeServer {
 public:
  explicit FakeServer(std::string greeting) : greeting_(std::move(greeting)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("cannot listen");
    port_ = ntohs(addr.sin_port);
    if (::pipe(stop_) != 0) throw std::runtime_error("pipe");
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    ::close(stop_[1]);
    thread_.join();
    for (int c : clients_) ::close(c);
    ::close(fd_);
    ::close(stop_[0]);
  }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/q?timeout=500"; }

 private:
  void serve() {
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) continue;
      if (p[1].revents != 0) return;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      if (!greeting_.empty()) (void)!::write(c, greeting_.data(), greeting_.size());
      clients_.push_back(c);
    }
  }
  std::string greeting_;
  int fd_ = -1, stop_[2] = {-1, -1};
  int port_ = 0;
  std::vector<int> clients_;
  std::thread thread_;
};

TEST(DistFailure, ServerThatIsNotRedisIsConnectionError) {
  {
    FakeServer http("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    try {
      Queue<int> q(http.url());
      FAIL() << "no exception";
    } catch (const ConnectionError& e) {
      EXPECT_NE(std::string(e.what()).find("not a Redis server"), std::string::npos) << e.what();
    }
  }
  {
    FakeServer silent("");
    const auto t0 = Clock::now();
    EXPECT_THROW(Queue<int>{silent.url()}, ConnectionError);
    EXPECT_LT(Clock::now() - t0, 10s);  // the budget is 500 ms
  }
}

}  // namespace
