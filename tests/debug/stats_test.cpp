// SPDX-License-Identifier: Apache-2.0
// Statistics per named object: locks, queues, executors; printed by report().
#include <sstream>

#include "debug_fixture.hpp"
#include "support/blocking.hpp"
#include "weft/event.hpp"
#include "weft/futures.hpp"
#include "weft/lock.hpp"
#include "weft/queue.hpp"
#include "weft/thread.hpp"

namespace weft::testing {
namespace {

using Stats = DebugTest;

const debug::ObjectStats* find(const std::vector<debug::ObjectStats>& all, const std::string& kind,
                               const std::string& name) {
  for (const auto& s : all)
    if (s.kind == kind && s.name == name) return &s;
  return nullptr;
}

void enable_stats() {
  debug::Options o;
  o.stats = true;
  debug::disable();  // start from an empty trace and zero counts, whatever WEFT_* said
  debug::enable(o);
}

TEST_F(Stats, CountsAcquisitionsContentionWaitAndHold) {
  enable_stats();
  Lock lock("stats-lock");
  lock.acquire();
  Thread worker(ThreadOptions{"worker"}, [&] {
    lock.acquire();  // blocks until main releases
    lock.release();
  });
  worker.start();
  // EXPECT, not ASSERT: returning with the lock held would hang in ~Thread's join.
  EXPECT_TRUE(wait_until_parked(*worker.ident()));
  lock.release();
  worker.join();
  const auto all = debug::stats();
  const auto* s = find(all, "Lock", "stats-lock");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->acquisitions, 2u);
  EXPECT_EQ(s->contended, 1u);
  EXPECT_EQ(s->waits, 1u);
  EXPECT_GT(s->max_wait.count(), 0);
  EXPECT_GE(s->total_wait, s->max_wait);
  EXPECT_GT(s->max_hold.count(), 0);
  std::ostringstream out;
  debug::report(out);
  EXPECT_NE(out.str().find("Lock \"stats-lock\""), std::string::npos) << out.str();
}

TEST_F(Stats, QueuesCountPutsGetsDepthAndWaits) {
  enable_stats();
  Queue<int> q(0, "jobs");
  for (int i = 0; i < 3; ++i) q.put(i);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(q.get(), i);
  expect_blocks_until([&] { return q.get(); }, [&] { q.put(7); });
  const auto all = debug::stats();
  const auto* s = find(all, "Queue", "jobs");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->puts, 4u);
  EXPECT_EQ(s->gets, 4u);
  EXPECT_EQ(s->max_depth, 3u);
  EXPECT_GE(s->idle_waits, 1u);  // the get() on the empty queue waited for work
  EXPECT_GT(s->total_idle_wait.count(), 0);
  std::ostringstream out;
  debug::report(out);
  EXPECT_NE(out.str().find("Queue \"jobs\""), std::string::npos) << out.str();
}

TEST_F(Stats, ExecutorsCountQueueWaitAndRunTime) {
  enable_stats();
  int executor = 0;  // stands for an executor object
  namespace hooks = detail::hooks;
  hooks::object_named(&executor, detail::ObjKind::executor, "pool");
  hooks::task_submitted(&executor, 1);
  hooks::task_submitted(&executor, 2);
  std::thread([&] {
    for (std::uint64_t id : {1u, 2u}) {
      hooks::task_begin(&executor, id);
      hooks::task_end(&executor, id);
    }
  }).join();
  hooks::task_begin(&executor, 3);  // never submitted through the hook: no queue wait
  hooks::task_end(&executor, 3);
  const auto all = debug::stats();
  const auto* s = find(all, "Executor", "pool");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->tasks, 3u);
  EXPECT_GT(s->total_queue_wait.count(), 0);
  EXPECT_GE(s->total_queue_wait, s->max_queue_wait);
  EXPECT_GE(s->total_run, s->max_run);
  hooks::object_destroyed(&executor);
}

// A consumer blocked on an empty queue waits for work: idle, not contention (the
// statistics used to count it as a wait).
TEST_F(Stats, GetOnAnEmptyQueueIsIdleNotAWait) {
  enable_stats();
  Queue<int> q(0, "idle-jobs");
  expect_blocks_until([&] { return q.get(); }, [&] { q.put(1); });
  const auto all = debug::stats();
  const auto* s = find(all, "Queue", "idle-jobs");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->idle_waits, 1u);
  EXPECT_GT(s->total_idle_wait.count(), 0);
  EXPECT_EQ(s->waits, 0u);
  EXPECT_EQ(s->total_wait.count(), 0);
}

// A putter blocked on a full queue waits for another thread: a wait.
TEST_F(Stats, PutOnAFullQueueIsAWait) {
  enable_stats();
  Queue<int> q(1, "full-jobs");
  q.put(0);
  expect_blocks_until([&] { q.put(1); }, [&] { EXPECT_EQ(q.get(), 0); });
  const auto all = debug::stats();
  const auto* s = find(all, "Queue", "full-jobs");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->waits, 1u);
  EXPECT_EQ(s->idle_waits, 0u);
}

// join(timeout) polls that time out are counted apart; only the final join that was
// woken (if it had to park) is a wait.
TEST_F(Stats, TimedOutJoinPollsAreNotWaits) {
  enable_stats();
  Event go("go");
  Thread target(ThreadOptions{"polled"}, [&] { go.wait(); });
  target.start();  // (start() may wait for the thread to run: a wait)
  auto waits_now = [] {
    const auto all = debug::stats();
    const auto* s = find(all, "Thread", "polled");
    return s != nullptr ? s->waits : 0;
  };
  const std::uint64_t waits_before = waits_now();
  EXPECT_FALSE(target.join(std::chrono::milliseconds(1)));
  EXPECT_FALSE(target.join(std::chrono::milliseconds(1)));
  EXPECT_EQ(waits_now(), waits_before);
  go.set();
  target.join();
  const auto all = debug::stats();
  const auto* s = find(all, "Thread", "polled");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->timed_out_waits, 2u);
  EXPECT_GT(s->total_timed_out_wait.count(), 0);
  std::ostringstream out;
  debug::report(out);
  EXPECT_NE(out.str().find("timed out"), std::string::npos) << out.str();
}

// An idle pool worker's sleep is idle time of the executor, not a wait.
TEST_F(Stats, IdlePoolWorkersAreNotContention) {
  enable_stats();
  ThreadPoolExecutor pool(1, "idle-pool");
  EXPECT_EQ(pool.submit([] { return 1; }).result(), 1);
  // Wait (trigger: the parking lot) until the worker sleeps for want of work.
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    bool sleeping = false;
    detail::for_each_parked([&](const detail::ParkedThread& t) {
      if (t.site.kind == detail::ObjKind::executor) sleeping = true;
    });
    if (sleeping) break;
    ASSERT_LT(std::chrono::steady_clock::now(), end) << "the worker never went idle";
    std::this_thread::yield();
  }
  EXPECT_EQ(pool.submit([] { return 2; }).result(), 2);
  pool.shutdown(true);
  const auto all = debug::stats();
  const auto* s = find(all, "Executor", "idle-pool");
  ASSERT_NE(s, nullptr);
  EXPECT_GE(s->idle_waits, 1u);
  EXPECT_EQ(s->waits, 0u);
  EXPECT_EQ(s->total_wait.count(), 0);
}

TEST_F(Stats, UnnamedObjectsAreNotListed) {
  enable_stats();
  Lock unnamed;
  unnamed.acquire();
  unnamed.release();
  for (const auto& s : debug::stats()) EXPECT_FALSE(s.name.empty()) << s.kind;
}

}  // namespace
}  // namespace weft::testing
