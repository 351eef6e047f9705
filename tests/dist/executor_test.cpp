// SPDX-License-Identifier: Apache-2.0
// dist::Executor and dist::serve on a private redis-server, workers in child processes.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "redis_server.hpp"
#include "support/blocking.hpp"
#include "weft/dist.hpp"
#include "workers.hpp"

namespace {

using namespace std::chrono_literals;
using weft::dist::Executor;
using weft::dist::Queue;
using weft::dist::WorkerOptions;

int twice(int x) { return 2 * x; }
std::string shout(std::string s, int n) { return s + std::string(static_cast<std::size_t>(n), '!'); }
int fails(int x) { throw std::out_of_range("no item " + std::to_string(x)); }
void record(std::string url, int x) { Queue<int>(url).put(x); }
int not_registered(int x) { return x; }

}  // namespace

WEFT_REMOTE(twice);
WEFT_REMOTE(shout);
WEFT_REMOTE(fails);
WEFT_REMOTE(record);
WEFT_REMOTE(weft_test::gated);

namespace {

// The body of every worker process the dist tests start (workers.hpp).
TEST(DistWorkerProcess, Serve) {
  weft_test::run_worker_from_environment();  // ends the process when it is a worker
  GTEST_SKIP() << "runs only in the worker processes of the dist tests";
}

WorkerOptions quick(std::size_t threads = 1) {
  WorkerOptions o;
  o.threads = threads;
  o.lease = 500ms;
  return o;
}

TEST(DistExecutor, ResultsAsFuturesWithWaitAsCompletedAndMap) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  weft_test::Workers workers(server.url("ex"), quick(2));
  workers.start();
  workers.start();
  Executor ex(server.url("ex"));
  EXPECT_EQ(ex.submit(twice, 21).result(60s), 42);
  EXPECT_EQ(ex.submit(shout, "hey", 3).result(60s), "hey!!!");
  std::vector<weft::Future<int>> fs;
  for (int i = 0; i < 40; ++i) fs.push_back(ex.submit(twice, i));
  const auto [done, not_done] = weft::wait(fs);
  EXPECT_EQ(done.size(), 40u);
  EXPECT_TRUE(not_done.empty());
  int sum = 0;
  for (auto& f : weft::as_completed(fs)) sum += f.result(60s);
  EXPECT_EQ(sum, 2 * (39 * 40 / 2));
  std::vector<int> inputs{1, 2, 3, 4, 5};
  std::vector<int> outputs;
  for (int y : ex.map(twice, inputs)) outputs.push_back(y);
  EXPECT_EQ(outputs, (std::vector<int>{2, 4, 6, 8, 10}));
  ex.shutdown();
}

TEST(DistExecutor, TaskExceptionIsRemoteError) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  weft_test::Workers workers(server.url("ex"), quick());
  workers.start();
  Executor ex(server.url("ex"));
  // The future outlives the handler: a temporary would drop its reference while the
  // exception unwinds, the collector thread could then drop the last one and destroy the
  // exception object, and ThreadSanitizer cannot see that the handler had finished with it
  // (the exception's own reference count lives in the uninstrumented libstdc++).
  auto failing = ex.submit(fails, 7);
  try {
    failing.result(60s);
    FAIL() << "no exception";
  } catch (const weft::RemoteError& e) {
    EXPECT_NE(std::string(e.what()).find("out_of_range"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no item 7"), std::string::npos) << e.what();
  }
}

TEST(DistExecutor, SubmitOfAnUnregisteredFunctionIsValueError) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Executor ex(server.url("ex"));
  EXPECT_THROW(ex.submit(not_registered, 1), weft::ValueError);
  ex.shutdown();
  EXPECT_THROW(ex.submit(twice, 1), weft::RuntimeError);
}

// A task under an unknown name or with another signature fails with RemoteError and
// runs nothing (record() would leave an item in its queue).
TEST(DistExecutor, UnknownNameOrMismatchedSignatureNeverRuns) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  weft_test::Workers workers(server.url("ex"), quick());
  workers.start();
  Executor ex(server.url("ex"));
  weft::WireWriter w;
  w.write(server.url("ran"));
  w.write(5);
  using Access = weft::dist::detail::ExecutorAccess;
  const std::uint64_t record_sig = weft::dist::detail::signature_hash<void, std::string, int>();
  const std::uint64_t other_sig = weft::dist::detail::signature_hash<void, std::string, long>();
  ASSERT_NE(record_sig, other_sig);
  auto unknown = Access::submit_named<void>(ex, "no_such_function", record_sig, w.buffer());
  auto mismatched = Access::submit_named<void>(ex, "record", other_sig, w.buffer());
  try {
    unknown.result(60s);
    FAIL() << "no exception";
  } catch (const weft::RemoteError& e) {
    EXPECT_NE(std::string(e.what()).find("no function 'no_such_function'"), std::string::npos) << e.what();
  }
  try {
    mismatched.result(60s);
    FAIL() << "no exception";
  } catch (const weft::RemoteError& e) {
    EXPECT_NE(std::string(e.what()).find("signature mismatch"), std::string::npos) << e.what();
  }
  // The same bytes under the right signature do run: the check above is not vacuous.
  Access::submit_named<void>(ex, "record", record_sig, w.buffer()).result(60s);
  Queue<int> ran(server.url("ran"));
  EXPECT_EQ(ran.get_nowait(), 5);
  EXPECT_TRUE(ran.empty());
}

TEST(DistExecutor, SignaturesDifferByWireType) {
  using weft::dist::detail::signature_hash;
  EXPECT_NE((signature_hash<int, int>()), (signature_hash<int, unsigned>()));
  EXPECT_NE((signature_hash<int, int>()), (signature_hash<long, int>()));
  EXPECT_NE((signature_hash<int, std::vector<int>>()), (signature_hash<int, std::vector<long>>()));
  EXPECT_NE((signature_hash<void, int, int>()), (signature_hash<void, int>()));
  EXPECT_EQ((signature_hash<int, const std::string&>()), (signature_hash<int, std::string>()));
}

// SIGTERM: the worker finishes the task it runs, takes no new one, and exits 0.
TEST(DistExecutor, SigtermFinishesTheCurrentTaskAndExitsZero) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  weft_test::Workers workers(server.url("ex"), quick());
  const pid_t worker = workers.start();
  Executor ex(server.url("ex"));
  Queue<int> started(server.url("started"));
  auto f = ex.submit(weft_test::gated, server.url("started"), server.url("gate"), 4);
  ASSERT_EQ(started.get(60s), worker);
  ::kill(worker, SIGTERM);
  auto later = ex.submit(twice, 1);  // must wait for another worker
  Queue<int>(server.url("gate")).shutdown();
  EXPECT_EQ(f.result(60s), 8);
  EXPECT_EQ(workers.reap(worker), 0);
  EXPECT_FALSE(later.done());
  workers.start();
  EXPECT_EQ(later.result(60s), 2);
}

// True once n clients wait in blocking reads on the server (every worker thread has
// issued its read on the existing group, and the collector waits for replies); false
// after weft::testing::kPollLimit.
bool wait_for_blocked_clients(weft_test::RedisServer& server, int n) {
  weft::dist::detail::Connection c(server.endpoint());
  return weft::testing::poll_until(
      [&] {
        auto r = c.checked({"INFO", "clients"});
        const std::string_view info = weft::dist::detail::text(r.get());
        const std::size_t at = info.find("blocked_clients:");
        return at != std::string_view::npos && std::atoi(info.data() + at + 16) >= n;
      },
      weft::testing::kPollLimit, 5ms);
}

// After shutdown nothing of the executor is left on the server, and its workers return
// (a worker that never saw the executor would keep waiting for it to appear).
TEST(DistExecutor, ShutdownRemovesEverythingAndEndsTheWorkers) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  weft_test::Workers workers(server.url("gone"), quick(2));
  const pid_t a = workers.start();
  const pid_t b = workers.start();
  {
    Executor ex(server.url("gone"));
    // 2 workers x 2 threads, the collector.
    EXPECT_TRUE(wait_for_blocked_clients(server, 2 * 2 + 1));
    std::vector<int> xs(30, 1);
    int sum = 0;
    for (int y : ex.map(twice, xs)) sum += y;
    EXPECT_EQ(sum, 60);
    EXPECT_FALSE(server.keys("weft:x:{gone}:*").empty());
  }  // the destructor shuts down
  EXPECT_EQ(server.keys("weft:x:{gone}:*"), std::vector<std::string>{});
  EXPECT_EQ(workers.reap(a), 0);
  EXPECT_EQ(workers.reap(b), 0);
  EXPECT_EQ(server.keys("weft:x:{gone}:*"), std::vector<std::string>{});
}

TEST(DistExecutor, CancelledFuturesDoNotHoldUpShutdown) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Executor ex(server.url("idle"));
  auto f = ex.submit(twice, 1);  // no worker: it stays pending
  EXPECT_TRUE(f.cancel());
  ex.shutdown(true);  // returns although no worker ever ran f
  EXPECT_TRUE(f.cancelled());
  Executor other(server.url("idle2"));
  auto g = other.submit(twice, 2);
  other.shutdown(true, true);  // cancel_futures: nothing left to wait for
  EXPECT_TRUE(g.cancelled());
  EXPECT_EQ(server.keys("weft:x:*"), std::vector<std::string>{});
}

}  // namespace
