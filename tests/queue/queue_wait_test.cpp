// SPDX-License-Identifier: Apache-2.0
// Tests of the FIFO waiters' spin (src/queue/queue_wait.hpp, spin_while with a pause
// budget) and of the per-side spin state a Queue keeps for it (FifoSpinState). The
// predicates count their calls, so nothing here depends on timing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <cstdint>
#include <thread>
#include <vector>

#include "queue/queue_wait.hpp"
#include "weft/errors.hpp"
#include "weft/queue.hpp"

using namespace std::chrono_literals;

namespace {

using weft::detail::kLoneWaiterPauses;
using weft::detail::kShortWaitPauses;
using weft::detail::spin_while;

// Still waiting for the first `calls` calls, then not.
struct WaitFor {
  int calls;
  int seen = 0;
  bool operator()() { return ++seen <= calls; }
};

TEST(QueueSpin, AWaitThatEndsAtTheFirstCheckIsShort) {
  WaitFor pred{0};
  bool short_wait = false;
  EXPECT_TRUE(spin_while(std::ref(pred), kLoneWaiterPauses, short_wait));
  EXPECT_TRUE(short_wait);
  EXPECT_EQ(pred.seen, 1);
}

TEST(QueueSpin, AWaitPastTheShortBoundIsNotShort) {
  // One check every fourth pause: the check after kShortWaitPauses pauses is this one.
  WaitFor pred{static_cast<int>(kShortWaitPauses / 4)};
  bool short_wait = true;
  EXPECT_TRUE(spin_while(std::ref(pred), kLoneWaiterPauses, short_wait));
  EXPECT_FALSE(short_wait);
  EXPECT_EQ(pred.seen, static_cast<int>(kShortWaitPauses / 4) + 1);
}

TEST(QueueSpin, TheLastCheckOfTheLongSpinBeforeBackoffStillCounts) {
  WaitFor pred{static_cast<int>(kLoneWaiterPauses / 4) - 1};
  bool short_wait = true;
  EXPECT_TRUE(spin_while(std::ref(pred), kLoneWaiterPauses, short_wait));
  EXPECT_FALSE(short_wait);
  EXPECT_EQ(pred.seen, static_cast<int>(kLoneWaiterPauses / 4));
}

TEST(QueueSpin, WithoutPausesBackoffsFirstRoundIsShortAndItsYieldsAreNot) {
  WaitFor first{0};
  bool short_wait = false;
  EXPECT_TRUE(spin_while(std::ref(first), 0, short_wait));
  EXPECT_TRUE(short_wait);
  EXPECT_EQ(first.seen, 1);

  // Backoff's fifth round is its first yield: well past kShortWaitPauses pauses.
  WaitFor fifth{4};
  short_wait = true;
  EXPECT_TRUE(spin_while(std::ref(fifth), 0, short_wait));
  EXPECT_FALSE(short_wait);
  EXPECT_EQ(fifth.seen, 5);
}

TEST(QueueSpin, ANeverEndingWaitSpendsTheBudgetAndReturnsFalse) {
  int calls = 0;
  bool short_wait = true;
  EXPECT_FALSE(spin_while([&] { return ++calls > 0; }, kLoneWaiterPauses, short_wait));
  EXPECT_FALSE(short_wait);
  // Every fourth pause, then once per Backoff round.
  EXPECT_EQ(calls, static_cast<int>(kLoneWaiterPauses / 4 + weft::detail::kQueueSpinRounds));
}

// The per-side spin state, read through a subclass (protected members of FifoBase).
struct Peek : weft::Queue<int> {
  using weft::Queue<int>::Queue;
  unsigned getters_spinning() const { return getters_spin_.spinning.load(); }
  unsigned putters_spinning() const { return putters_spin_.spinning.load(); }
};

TEST(QueueSpin, EverySpinnerLeavesTheCountOnBothSides) {
  // Two getters and two putters of a queue of one slot, so both sides wait (spin, and
  // park), alone and side by side; every item arrives once.
  Peek q(1);
  constexpr int kItems = 2000;
  std::atomic<long> sum{0};
  std::vector<std::thread> threads;
  for (int g = 0; g < 2; ++g)
    threads.emplace_back([&] {
      for (int i = 0; i < kItems; ++i) sum += q.get();
    });
  for (int p = 0; p < 2; ++p)
    threads.emplace_back([&] {
      for (int i = 1; i <= kItems; ++i) q.put(i);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(sum.load(), 2L * kItems * (kItems + 1) / 2);
  EXPECT_EQ(q.getters_spinning(), 0u);
  EXPECT_EQ(q.putters_spinning(), 0u);
}

TEST(QueueSpin, ATimedOutGetLeavesTheCount) {
  Peek q;
  EXPECT_THROW(q.get(1ms), weft::Empty);
  EXPECT_EQ(q.getters_spinning(), 0u);
  Peek full(1);
  full.put(1);
  EXPECT_THROW(full.put(2, 1ms), weft::Full);
  EXPECT_EQ(full.putters_spinning(), 0u);
}

}  // namespace
