// SPDX-License-Identifier: Apache-2.0
// ThreadPoolExecutor's per-worker batches (tasks a worker takes from the queue in one
// visit when it is long): a batched task stays pending and cancellable, shutdown(
// cancel_futures) cancels it, a task waiting for a later task of its own batch sees that
// one run on another worker, and nothing is lost or run twice.
// The pools here queue many tasks behind a gate while their workers are busy, so that
// the first worker to take from the queue takes a batch (with one worker: the next 7).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "support/scope_exit.hpp"
#include "weft/event.hpp"
#include "weft/futures.hpp"

namespace {

using namespace std::chrono_literals;
using weft::Future;
using weft::ThreadPoolExecutor;

// Occupies every one of the pool's `workers` workers with a task that waits for `gate`,
// and returns once all of them run.
std::vector<Future<void>> occupy_workers(ThreadPoolExecutor& pool, int workers,
                                         weft::Event& gate) {
  std::vector<Future<void>> blockers;
  for (int i = 0; i < workers; ++i) {
    blockers.push_back(pool.submit([&gate] { gate.wait(); }));
    // Running before the next submit: that one finds no idle worker and starts another.
    while (!blockers.back().running()) std::this_thread::yield();
  }
  return blockers;
}

// One worker: tasks 2..8 are batched behind task 1 when the gate opens. Task 1 cancels
// them; none of them may run, and every later task runs once.
TEST(ThreadPoolBatch, CancelledBatchedTasksDoNotRun) {
  constexpr int kTasks = 20;
  auto runs = std::make_unique<std::atomic<int>[]>(kTasks);
  std::vector<Future<void>> fs;
  fs.reserve(kTasks);
  std::vector<bool> cancelled_by_task(kTasks, false);
  weft::Event gate;
  ThreadPoolExecutor pool(1);
  weft::testing::ScopeExit open_gate([&] { gate.set(); });
  auto blockers = occupy_workers(pool, 1, gate);
  fs.push_back(pool.submit([&] {
    runs[0].fetch_add(1);
    for (std::size_t i = 2; i <= 8; ++i) cancelled_by_task[i] = fs[i].cancel();
  }));
  for (int i = 1; i < kTasks; ++i) fs.push_back(pool.submit([&runs, i] { runs[i].fetch_add(1); }));
  gate.set();
  pool.shutdown(true);
  for (int i = 0; i < kTasks; ++i) {
    const auto k = static_cast<std::size_t>(i);
    ASSERT_TRUE(fs[k].done()) << i;
    if (i >= 2 && i <= 8) {
      EXPECT_TRUE(cancelled_by_task[k]) << "task " << i << " had started";
      EXPECT_TRUE(fs[k].cancelled()) << i;
      EXPECT_EQ(runs[i].load(), 0) << "task " << i << " ran after cancel()";
    } else {
      EXPECT_FALSE(fs[k].cancelled()) << i;
      EXPECT_EQ(runs[i].load(), 1) << "task " << i;
    }
  }
}

// One worker, stopped inside task 1 with tasks 2..8 in its batch: shutdown(wait=false,
// cancel_futures=true) has cancelled all of them (and the queued rest) when it returns.
TEST(ThreadPoolBatch, ShutdownCancelFuturesCancelsBatchedTasks) {
  constexpr int kTasks = 20;
  auto runs = std::make_unique<std::atomic<int>[]>(kTasks);
  std::vector<Future<void>> fs;
  weft::Event gate, first_started, release_first;
  ThreadPoolExecutor pool(1);
  weft::testing::ScopeExit open_gates([&] {
    gate.set();
    release_first.set();
  });
  auto blockers = occupy_workers(pool, 1, gate);
  fs.push_back(pool.submit([&] {
    runs[0].fetch_add(1);
    first_started.set();
    release_first.wait();
  }));
  for (int i = 1; i < kTasks; ++i) fs.push_back(pool.submit([&runs, i] { runs[i].fetch_add(1); }));
  gate.set();
  ASSERT_TRUE(first_started.wait(60s));
  pool.shutdown(false, true);
  for (int i = 1; i < kTasks; ++i)
    EXPECT_TRUE(fs[static_cast<std::size_t>(i)].cancelled()) << "task " << i << " not cancelled";
  release_first.set();
  pool.shutdown(true);
  EXPECT_EQ(runs[0].load(), 1);
  for (int i = 1; i < kTasks; ++i) EXPECT_EQ(runs[i].load(), 0) << "task " << i << " ran";
}

// Two workers. Task X waits for task Y, submitted right after it, so both land in one
// worker's batch (X first); 200 more tasks follow. The other worker must take Y from
// that batch (X's worker is stuck in X), and must do so before it has run through the
// whole queue: Y was submitted before all of those.
TEST(ThreadPoolBatch, TaskWaitingForALaterTaskOfItsBatchSeesItRunSoon) {
  constexpr int kFillers = 200;
  weft::Event gate, y_ran;
  std::atomic<int> fillers_run{0};
  std::atomic<int> fillers_before_y{-1};
  ThreadPoolExecutor pool(2);
  weft::testing::ScopeExit open_gates([&] {
    gate.set();
    y_ran.set();
  });
  auto blockers = occupy_workers(pool, 2, gate);
  auto x = pool.submit([&] { return y_ran.wait(60s); });
  auto y = pool.submit([&] {
    fillers_before_y = fillers_run.load();
    y_ran.set();
  });
  std::vector<Future<void>> fillers;
  for (int i = 0; i < kFillers; ++i)
    fillers.push_back(pool.submit([&] { fillers_run.fetch_add(1); }));
  gate.set();
  EXPECT_TRUE(x.result()) << "Y never ran while X waited for it";
  y.result();
  EXPECT_LT(fillers_before_y.load(), kFillers / 2)
      << "Y waited in a stuck batch while later tasks ran";
  for (auto& f : fillers) f.result();
  EXPECT_EQ(fillers_run.load(), kFillers);
}

// 10^5 tasks queued behind busy workers, a third of them cancelled at random while the
// workers take them in batches; task 50,000 holds its worker (with its batch) while shutdown(cancel_futures)
// runs and the other workers are still taking tasks. Every task ran exactly once or its
// future is cancelled (and then it never ran), and every successful cancel() is kept.
void exact_accounting(std::size_t workers) {
  constexpr int kTasks = 100000;
  constexpr int kHolder = kTasks / 2;
  auto runs = std::make_unique<std::atomic<int>[]>(kTasks);
  std::vector<Future<void>> fs;
  fs.reserve(kTasks);
  std::vector<char> cancel_won(kTasks, 0);
  weft::Event gate, holder_runs, shut_down;
  ThreadPoolExecutor pool(workers);
  weft::testing::ScopeExit release_all([&] {
    gate.set();
    shut_down.set();
  });
  auto blockers = occupy_workers(pool, static_cast<int>(workers), gate);
  for (int i = 0; i < kTasks; ++i) {
    fs.push_back(pool.submit([&runs, &holder_runs, &shut_down, i] {
      runs[i].fetch_add(1);
      if (i == kHolder) {
        holder_runs.set();
        shut_down.wait();
      }
    }));
  }
  std::thread canceller([&] {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> pick(0, kTasks - 1);
    for (int n = 0; n < kTasks / 3; ++n) {
      const int i = pick(rng);
      if (i != kHolder && fs[static_cast<std::size_t>(i)].cancel())
        cancel_won[static_cast<std::size_t>(i)] = 1;
    }
  });
  gate.set();
  EXPECT_TRUE(holder_runs.wait(60s));
  pool.shutdown(false, true);
  shut_down.set();
  pool.shutdown(true);
  canceller.join();
  int ran = 0, cancelled = 0;
  for (int i = 0; i < kTasks; ++i) {
    const auto k = static_cast<std::size_t>(i);
    ASSERT_TRUE(fs[k].done()) << i;
    const int r = runs[i].load();
    if (fs[k].cancelled()) {
      ASSERT_EQ(r, 0) << "task " << i << " ran but reports cancelled";
      ++cancelled;
    } else {
      ASSERT_EQ(r, 1) << "task " << i << " ran " << r << " times";
      ASSERT_FALSE(cancel_won[k]) << "task " << i << " ran after cancel() returned true";
      ++ran;
    }
  }
  EXPECT_EQ(ran + cancelled, kTasks);
  EXPECT_GT(ran, kTasks / 4);  // the first half ran, less the cancels among them
}

TEST(ThreadPoolBatch, ExactAccountingOf100kTasksWithRandomCancelsTwoWorkers) {
  exact_accounting(2);
}

TEST(ThreadPoolBatch, ExactAccountingOf100kTasksWithRandomCancelsDefaultWorkers) {
  // ThreadPoolExecutor()'s size, given explicitly to occupy each worker.
  exact_accounting(std::min<std::size_t>(32, std::max(1u, std::thread::hardware_concurrency()) + 4));
}

}  // namespace
