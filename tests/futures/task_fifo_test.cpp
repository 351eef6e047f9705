// SPDX-License-Identifier: Apache-2.0
// ThreadPoolExecutor's queue storage (src/futures/task_fifo.hpp): task pointers in 4 KiB
// segments of 511, reused across pools. First the structure alone (order across
// segments, take_all, the line counts an entry carries), then the pool across many
// segments: start order, shutdown(cancel_futures) order, and concurrent submitters
// racing a shutdown while segments are taken from and given back to the shared cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "futures/task_fifo.hpp"
#include "support/scope_exit.hpp"
#include "weft/errors.hpp"
#include "weft/event.hpp"
#include "weft/futures.hpp"

namespace {

using weft::Future;
using weft::ThreadPoolExecutor;
using weft::detail::FutureState;
using weft::detail::FutureStateBase;
using weft::detail::TaskFifo;

constexpr std::size_t kSegment = TaskFifo::kSlots;

// n plain future states; released by the guard.
struct States {
  explicit States(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) all.push_back(new FutureState<int>());
  }
  ~States() {
    for (FutureStateBase* s : all) s->release();
  }
  std::vector<FutureStateBase*> all;
};

TEST(TaskFifo, KeepsFifoOrderAcrossSegmentsWhilePushesAndPopsInterleave) {
  States states(5 * kSegment + 7);
  TaskFifo fifo;
  EXPECT_TRUE(fifo.empty());
  std::size_t pushed = 0, popped = 0;
  // Three in, two out: the queue grows across several segments while its head moves.
  while (pushed < states.all.size()) {
    for (int i = 0; i < 3 && pushed < states.all.size(); ++i) fifo.push(states.all[pushed++]);
    for (int i = 0; i < 2; ++i) {
      ASSERT_FALSE(fifo.empty());
      ASSERT_EQ(fifo.pop().task(), states.all[popped]) << "entry " << popped;
      ++popped;
    }
  }
  while (!fifo.empty()) {
    ASSERT_EQ(fifo.pop().task(), states.all[popped]) << "entry " << popped;
    ++popped;
  }
  EXPECT_EQ(popped, states.all.size());
  // Emptied, it starts again and keeps the order.
  for (std::size_t i = 0; i < 3; ++i) fifo.push(states.all[i]);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(fifo.pop().task(), states.all[i]);
  EXPECT_TRUE(fifo.empty());
}

TEST(TaskFifo, TakeAllLinksEveryEntryOldestFirst) {
  States states(2 * kSegment + 3);
  TaskFifo fifo;
  for (FutureStateBase* s : states.all) fifo.push(s);
  for (std::size_t i = 0; i < 10; ++i) ASSERT_EQ(fifo.pop().task(), states.all[i]);
  std::size_t i = 10;
  for (FutureStateBase* t = fifo.take_all(); t != nullptr; t = t->next_, ++i) {
    ASSERT_LT(i, states.all.size());
    ASSERT_EQ(t, states.all[i]) << "entry " << i;
  }
  EXPECT_EQ(i, states.all.size());
  EXPECT_TRUE(fifo.empty());
  EXPECT_EQ(fifo.take_all(), nullptr);
}

// pop_many takes runs of every length across segment ends, in order, and leaves the
// queue restartable once emptied.
TEST(TaskFifo, PopManyTakesRunsInOrderAcrossSegments) {
  States states(3 * kSegment + 5);
  TaskFifo fifo;
  for (FutureStateBase* s : states.all) fifo.push(s);
  std::size_t popped = 0;
  std::uint32_t run = 1;
  TaskFifo::Entry out[8];
  while (popped < states.all.size()) {
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(run, states.all.size() - popped));
    fifo.pop_many(out, n);
    for (std::uint32_t i = 0; i < n; ++i) ASSERT_EQ(out[i].task(), states.all[popped + i]) << "entry " << popped + i;
    popped += n;
    run = run % 8 + 1;  // 1, 2, ..., 8, 1, ...: some runs straddle a segment end
  }
  EXPECT_TRUE(fifo.empty());
  TaskFifo::prefetch(out, 8);  // touches no memory
  for (std::size_t i = 0; i < 9; ++i) fifo.push(states.all[i]);
  fifo.pop_many(out, 8);
  EXPECT_EQ(out[7].task(), states.all[7]);
  EXPECT_EQ(fifo.pop().task(), states.all[8]);
  EXPECT_TRUE(fifo.empty());
}

// A task's state gives back its exact address, whatever its size and alignment.
TEST(TaskFifo, EntriesGiveBackTheirTasksExactly) {
  weft::ThreadPoolExecutor pool(1);
  std::vector<Future<std::uint64_t>> small;
  std::vector<Future<std::array<std::uint64_t, 40>>> large;  // beyond 4 cache lines
  for (std::uint64_t i = 0; i < 64; ++i) {
    small.push_back(pool.submit([i] { return i; }));
    large.push_back(pool.submit([i] {
      std::array<std::uint64_t, 40> a{};
      a.fill(i);
      return a;
    }));
  }
  TaskFifo fifo;
  for (std::size_t i = 0; i < small.size(); ++i) {
    fifo.push(weft::detail::future_state(small[i]));
    fifo.push(weft::detail::future_state(large[i]));
  }
  for (std::size_t i = 0; i < small.size(); ++i) {
    const TaskFifo::Entry a = fifo.pop();
    const TaskFifo::Entry b = fifo.pop();
    EXPECT_EQ(a.task(), weft::detail::future_state(small[i]));
    EXPECT_EQ(b.task(), weft::detail::future_state(large[i]));
    a.prefetch();  // touches no memory; must not fault either
    b.prefetch();
  }
  for (std::size_t i = 0; i < small.size(); ++i) {
    EXPECT_EQ(small[i].result(), i);
    EXPECT_EQ(large[i].result()[39], i);
  }
}

// One worker held by a gate while 4 segments' worth of tasks queue up: they start in
// submission order (one worker takes its batches in order).
TEST(ThreadPoolQueue, OneWorkerStartsTasksInSubmissionOrderAcrossSegments) {
  constexpr std::size_t kTasks = 4 * kSegment + 11;
  std::vector<std::size_t> order;
  order.reserve(kTasks);
  weft::Event gate;
  ThreadPoolExecutor pool(1);
  weft::testing::ScopeExit open_gate([&] { gate.set(); });
  auto blocker = pool.submit([&gate] { gate.wait(); });
  std::vector<Future<void>> fs;
  for (std::size_t i = 0; i < kTasks; ++i) fs.push_back(pool.submit([&order, i] { order.push_back(i); }));
  gate.set();
  for (auto& f : fs) f.result();
  ASSERT_EQ(order.size(), kTasks);
  for (std::size_t i = 0; i < kTasks; ++i) ASSERT_EQ(order[i], i) << "position " << i;
}

// shutdown(cancel_futures) cancels every queued task, in submission order (each
// cancellation runs the future's callbacks), across segments.
TEST(ThreadPoolQueue, ShutdownCancelsQueuedTasksInSubmissionOrderAcrossSegments) {
  constexpr std::size_t kTasks = 3 * kSegment + 5;
  std::vector<std::size_t> cancelled;
  std::atomic<int> ran{0};
  weft::Event gate, blocker_runs;
  ThreadPoolExecutor pool(1);
  weft::testing::ScopeExit open_gate([&] { gate.set(); });
  auto blocker = pool.submit([&] {
    blocker_runs.set();
    gate.wait();
  });
  ASSERT_TRUE(blocker_runs.wait(std::chrono::seconds(60)));
  std::vector<Future<void>> fs;
  for (std::size_t i = 0; i < kTasks; ++i) {
    fs.push_back(pool.submit([&ran] { ran.fetch_add(1); }));
    fs.back().add_done_callback([&cancelled, i](Future<void> f) {
      if (f.cancelled()) cancelled.push_back(i);  // runs in the cancelling thread
    });
  }
  pool.shutdown(false, true);
  gate.set();
  pool.shutdown(true);
  EXPECT_EQ(ran.load(), 0);
  ASSERT_EQ(cancelled.size(), kTasks);
  for (std::size_t i = 0; i < kTasks; ++i) ASSERT_EQ(cancelled[i], i) << "position " << i;
  for (auto& f : fs) EXPECT_TRUE(f.cancelled());
}

// Three pools in turn (their segments go to the shared cache and come back), each with
// two submitting threads that race shutdown(cancel_futures) from a third: every submit
// either throws RuntimeError or gives a future that ran exactly once or is cancelled.
TEST(ThreadPoolQueue, SubmittersRacingShutdownLoseNothingAcrossSegments) {
  constexpr int kPerSubmitter = 4000;
  for (int round = 0; round < 3; ++round) {
    auto runs = std::make_unique<std::atomic<int>[]>(2 * kPerSubmitter);
    std::vector<Future<void>> fs[2];
    int refused[2] = {0, 0};
    weft::Event go;
    std::atomic<int> submitted{0};
    ThreadPoolExecutor pool(2);
    weft::testing::ScopeExit release([&] { go.set(); });
    auto submitter = [&](int who) {
      go.wait();
      for (int i = 0; i < kPerSubmitter; ++i) {
        const int id = who * kPerSubmitter + i;
        try {
          fs[who].push_back(pool.submit([&runs, id] { runs[id].fetch_add(1); }));
          submitted.fetch_add(1);
        } catch (const weft::RuntimeError&) {
          ++refused[who];
        }
      }
    };
    std::thread a(submitter, 0), b(submitter, 1);
    go.set();
    // Shut down once a few segments' worth is in, while both still submit.
    while (submitted.load() < static_cast<int>(3 * kSegment)) std::this_thread::yield();
    pool.shutdown(false, true);
    a.join();
    b.join();
    pool.shutdown(true);
    int ran = 0, cancelled = 0;
    for (int who = 0; who < 2; ++who) {
      EXPECT_EQ(fs[who].size() + static_cast<std::size_t>(refused[who]),
                static_cast<std::size_t>(kPerSubmitter));
      for (auto& f : fs[who]) {
        ASSERT_TRUE(f.done());
        if (f.cancelled()) {
          ++cancelled;
        } else {
          ++ran;
        }
      }
    }
    int runs_total = 0;
    for (int id = 0; id < 2 * kPerSubmitter; ++id) {
      ASSERT_LE(runs[id].load(), 1) << "task " << id << " ran twice";
      runs_total += runs[id].load();
    }
    EXPECT_EQ(runs_total, ran) << "round " << round;
    EXPECT_EQ(static_cast<int>(fs[0].size() + fs[1].size()), ran + cancelled);
  }
}

}  // namespace
