// SPDX-License-Identifier: Apache-2.0
// shutdown(wait, cancel_futures) and the destructor; cancellation and shutdown races with
// exact accounting: every submitted task ran exactly once or its future is cancelled.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "support/blocking.hpp"
#include "support/scope_exit.hpp"
#include "weft/event.hpp"
#include "weft/futures.hpp"

namespace {

using namespace std::chrono_literals;
using weft::Future;
using weft::ThreadPoolExecutor;

TEST(Shutdown, WaitRunsEveryQueuedTask) {
  std::atomic<int> ran{0};
  std::vector<Future<void>> fs;
  ThreadPoolExecutor pool(2);
  for (int i = 0; i < 100; ++i) fs.push_back(pool.submit([&] { ++ran; }));
  pool.shutdown(true);
  EXPECT_EQ(ran.load(), 100);
  for (auto& f : fs) EXPECT_TRUE(f.done());
}

TEST(Shutdown, DestructorWaits) {
  std::atomic<int> ran{0};
  std::vector<Future<void>> fs;
  {
    ThreadPoolExecutor pool(3);
    for (int i = 0; i < 50; ++i) fs.push_back(pool.submit([&] { ++ran; }));
  }
  EXPECT_EQ(ran.load(), 50);
  for (auto& f : fs) EXPECT_FALSE(f.cancelled());
}

TEST(Shutdown, WaitBlocksUntilTheRunningTaskEnds) {
  weft::Event gate;  // outlives the pool, whose destructor waits for the task
  ThreadPoolExecutor pool(1);
  auto f = pool.submit([&] { gate.wait(); });
  while (!f.running()) std::this_thread::yield();
  weft::testing::expect_blocks_until([&] { pool.shutdown(true); }, [&] { gate.set(); });
  EXPECT_TRUE(f.done());
}

TEST(Shutdown, NoWaitReturnsAtOnceAndQueuedWorkStillRuns) {
  weft::Event gate;
  std::vector<Future<int>> fs;
  ThreadPoolExecutor pool(1);
  fs.push_back(pool.submit([&] {
    gate.wait();
    return 0;
  }));
  for (int i = 1; i < 5; ++i) fs.push_back(pool.submit([](int x) { return x; }, i));
  pool.shutdown(false);
  EXPECT_THROW(pool.submit([] { return 0; }), weft::RuntimeError);
  gate.set();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fs[static_cast<std::size_t>(i)].result(), i);
}

TEST(Shutdown, CancelFuturesCancelsOnlyQueuedTasks) {
  weft::Event gate;
  ThreadPoolExecutor pool(1);
  weft::testing::ScopeExit open_gate([&] { gate.set(); });  // also when a check fails
  auto running = pool.submit([&] {
    gate.wait();
    return 1;
  });
  while (!running.running()) std::this_thread::yield();
  std::vector<Future<int>> queued;
  for (int i = 0; i < 10; ++i) queued.push_back(pool.submit([] { return 2; }));
  pool.shutdown(false, true);
  for (auto& f : queued) {
    ASSERT_TRUE(f.cancelled());  // else result() would wait for the gate
    EXPECT_THROW(f.result(), weft::CancelledError);
  }
  gate.set();
  EXPECT_EQ(running.result(), 1);
  pool.shutdown(true);
}

TEST(Shutdown, RepeatedAndConcurrentShutdownIsSafe) {
  ThreadPoolExecutor pool(2);
  auto f = pool.submit([] { return 1; });
  std::thread a([&] { pool.shutdown(true); });
  std::thread b([&] { pool.shutdown(true, true); });
  a.join();
  b.join();
  pool.shutdown();
  EXPECT_TRUE(f.done());
}

TEST(Shutdown, ShutdownFromInsideATaskDoesNotDeadlock) {
  ThreadPoolExecutor pool(2);
  auto f = pool.submit([&pool] {
    pool.shutdown(true);
    return 5;
  });
  EXPECT_EQ(f.result(), 5);
  EXPECT_THROW(pool.submit([] { return 0; }), weft::RuntimeError);
}

TEST(Shutdown, FuturesOutliveTheExecutor) {
  Future<int> f;
  {
    ThreadPoolExecutor pool(1);
    f = pool.submit([] { return 11; });
  }
  EXPECT_EQ(f.result(), 11);
}

// Exact accounting: each task bumps its own slot; afterwards each slot is 1 and the
// future finished, or 0 and the future cancelled. Nothing is lost or run twice.
TEST(ShutdownRace, CancelFuturesLosesNothing) {
  for (int round = 0; round < 20; ++round) {
    constexpr int kTasks = 400;
    auto runs = std::make_unique<std::atomic<int>[]>(kTasks);
    std::vector<Future<void>> fs;
    fs.reserve(kTasks);
    ThreadPoolExecutor pool(3);
    std::atomic<int> submitted{0};
    std::thread submitter([&] {
      for (int i = 0; i < kTasks; ++i) {
        try {
          fs.push_back(pool.submit([&runs, i] { runs[i].fetch_add(1); }));
          submitted.store(i + 1, std::memory_order_release);
        } catch (const weft::RuntimeError&) {
          break;
        }
      }
    });
    while (submitted.load(std::memory_order_acquire) < kTasks / 4) std::this_thread::yield();
    pool.shutdown(true, true);
    submitter.join();
    int ran = 0, cancelled = 0;
    for (std::size_t i = 0; i < fs.size(); ++i) {
      ASSERT_TRUE(fs[i].done());
      const int r = runs[i].load();
      if (fs[i].cancelled()) {
        EXPECT_EQ(r, 0) << "task " << i << " ran but reports cancelled";
        ++cancelled;
      } else {
        EXPECT_EQ(r, 1) << "task " << i << " ran " << r << " times";
        ++ran;
      }
    }
    for (std::size_t i = fs.size(); i < kTasks; ++i) EXPECT_EQ(runs[i].load(), 0);
    EXPECT_EQ(ran + cancelled, static_cast<int>(fs.size()));
  }
}

TEST(ShutdownRace, CancelRacingWithWorkersExactlyOnce) {
  constexpr int kTasks = 2000;
  auto runs = std::make_unique<std::atomic<int>[]>(kTasks);
  std::vector<Future<void>> fs;
  fs.reserve(kTasks);
  {
    ThreadPoolExecutor pool(3);
    for (int i = 0; i < kTasks; ++i) fs.push_back(pool.submit([&runs, i] { runs[i] += 1; }));
    std::thread canceller([&] {
      for (int i = kTasks - 1; i >= 0; i -= 2) fs[static_cast<std::size_t>(i)].cancel();
    });
    canceller.join();
  }
  int cancelled = 0;
  for (int i = 0; i < kTasks; ++i) {
    auto& f = fs[static_cast<std::size_t>(i)];
    ASSERT_TRUE(f.done());
    EXPECT_EQ(runs[i].load(), f.cancelled() ? 0 : 1) << i;
    cancelled += f.cancelled();
  }
  EXPECT_LE(cancelled, kTasks / 2);
}

}  // namespace
