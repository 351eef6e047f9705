// SPDX-License-Identifier: Apache-2.0
// Barrier unit tests: indices, cycles, action, abort, reset, timeouts, misuse.
#include "weft/barrier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "threading/prims_support.hpp"
#include "weft/errors.hpp"
#include "weft/testing.hpp"
#include "weft/thread.hpp"

using namespace std::chrono_literals;

TEST(Barrier, ZeroPartiesIsValueError) {
  EXPECT_THROW(weft::Barrier(0), weft::ValueError);
  weft::Barrier one(1);
  EXPECT_EQ(one.parties(), 1u);
}

TEST(Barrier, SinglePartyPassesAtOnce) {
  weft::Barrier barrier(1);
  EXPECT_EQ(barrier.wait(), 0u);
  EXPECT_EQ(barrier.wait(0s), 0u);  // the last party never waits, so never times out
  EXPECT_FALSE(barrier.broken());
}

TEST(Barrier, EachRoundHandsOutEveryIndexOnce) {
  constexpr std::size_t kParties = 4;
  constexpr int kRounds = 5;
  weft::Barrier barrier(kParties, {}, std::nullopt, "rounds");
  std::mutex mu;
  std::vector<std::multiset<std::size_t>> seen(kRounds);
  {
    weft::testing::Bunch bunch(kParties, [&](std::size_t) {
      for (int r = 0; r < kRounds; ++r) {
        const std::size_t index = barrier.wait();
        std::scoped_lock hold(mu);
        seen[static_cast<std::size_t>(r)].insert(index);
      }
    });
  }
  for (const auto& round : seen) EXPECT_EQ(round, (std::multiset<std::size_t>{0, 1, 2, 3}));
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

TEST(Barrier, NobodyLeavesARoundBeforeEveryoneArrived) {
  constexpr std::size_t kParties = 3;
  weft::Barrier barrier(kParties);
  std::atomic<int> arrived{0};
  std::atomic<bool> early{false};
  {
    weft::testing::Bunch bunch(kParties, [&](std::size_t) {
      for (int r = 1; r <= 20; ++r) {
        arrived.fetch_add(1);
        barrier.wait();
        if (arrived.load() < r * static_cast<int>(kParties)) early = true;
        barrier.wait();  // keep the rounds apart
      }
    });
  }
  EXPECT_FALSE(early.load());
}

TEST(Barrier, ActionRunsOnceInTheLastThreadBeforeTheOthersLeave) {
  constexpr std::size_t kParties = 3;
  std::atomic<int> actions{0};
  std::atomic<std::thread::id> action_thread{};
  weft::Barrier barrier(kParties, [&] {
    actions.fetch_add(1);
    action_thread = std::this_thread::get_id();
  });
  std::atomic<int> saw_action{0};
  std::atomic<int> last_was_action_thread{0};
  {
    weft::testing::Bunch bunch(kParties, [&](std::size_t) {
      const std::size_t index = barrier.wait();
      if (actions.load() == 1) saw_action.fetch_add(1);
      if (index == kParties - 1 && action_thread.load() == std::this_thread::get_id())
        last_was_action_thread.fetch_add(1);
    });
  }
  EXPECT_EQ(actions.load(), 1);
  EXPECT_EQ(saw_action.load(), 3);
  EXPECT_EQ(last_was_action_thread.load(), 1);
}

TEST(Barrier, ThrowingActionBreaksTheBarrier) {
  constexpr std::size_t kParties = 3;
  weft::Barrier barrier(kParties, [] { throw std::logic_error("action failed"); });
  std::atomic<int> action_errors{0};
  std::atomic<int> broken_errors{0};
  {
    weft::testing::Bunch bunch(kParties, [&](std::size_t) {
      try {
        barrier.wait();
      } catch (const std::logic_error&) {
        action_errors.fetch_add(1);
      } catch (const weft::BrokenBarrierError&) {
        broken_errors.fetch_add(1);
      }
    });
  }
  EXPECT_EQ(action_errors.load(), 1);
  EXPECT_EQ(broken_errors.load(), 2);
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(barrier.wait(), weft::BrokenBarrierError);
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
}

TEST(Barrier, AbortBreaksWaitersAndLaterCalls) {
  weft::Barrier barrier(3);
  std::atomic<int> broken_errors{0};
  weft::testing::Bunch bunch(2, [&](std::size_t) {
    try {
      barrier.wait();
    } catch (const weft::BrokenBarrierError&) {
      broken_errors.fetch_add(1);
    }
  });
  // Counted, not merely parked: a thread parks on the barrier's internal lock on its way
  // in while the other, already queued, still holds it. No early return: abort()
  // releases the bunch.
  EXPECT_TRUE(weft::testing::poll_until([&] { return barrier.n_waiting() == 2; }));
  EXPECT_TRUE(bunch.wait_all_parked());
  barrier.abort();
  bunch.join();
  EXPECT_EQ(broken_errors.load(), 2);
  EXPECT_TRUE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_THROW(barrier.wait(), weft::BrokenBarrierError);
}

TEST(Barrier, ResetBreaksWaitersThenTheBarrierWorksAgain) {
  weft::Barrier barrier(2);
  std::atomic<int> broken_errors{0};
  {
    weft::testing::Bunch bunch(1, [&](std::size_t) {
      try {
        barrier.wait();
      } catch (const weft::BrokenBarrierError&) {
        broken_errors.fetch_add(1);
      }
    });
    EXPECT_TRUE(bunch.wait_all_parked());  // no early return: reset() releases it
    barrier.reset();
  }
  EXPECT_EQ(broken_errors.load(), 1);
  EXPECT_FALSE(barrier.broken());
  std::thread other([&] { barrier.wait(); });
  EXPECT_NO_THROW(barrier.wait());
  other.join();
}

TEST(Barrier, TimeoutBreaksTheBarrier) {
  weft::Barrier barrier(2);
  bool threw = false;
  const auto took = weft::testing::time_of([&] {
    try {
      barrier.wait(20ms);
    } catch (const weft::BrokenBarrierError&) {
      threw = true;
    }
  });
  EXPECT_TRUE(threw);
  EXPECT_GE(took, 20ms);
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, TimeoutBreaksTheBarrierAfterExactlyTheTimeoutInVirtualTime) {
  weft::testing::run([] {
    weft::Barrier barrier(3);
    weft::Thread other([&] { EXPECT_THROW(barrier.wait(1h), weft::BrokenBarrierError); });
    other.start();
    const auto start = weft::clock::now();
    EXPECT_THROW(barrier.wait(20min), weft::BrokenBarrierError);
    EXPECT_EQ(weft::clock::now() - start, 20min);
    other.join();
    EXPECT_EQ(weft::clock::now() - start, 20min);  // the other party left when it broke
    EXPECT_TRUE(barrier.broken());
  });
}

TEST(Barrier, DefaultTimeoutFromTheConstructor) {
  weft::testing::run([] {
    weft::Barrier barrier(2, {}, 10min);
    const auto start = weft::clock::now();
    EXPECT_THROW(barrier.wait(), weft::BrokenBarrierError);
    EXPECT_EQ(weft::clock::now() - start, 10min);
    EXPECT_TRUE(barrier.broken());
  });
  weft::Barrier forever(2, {}, std::chrono::hours::max());
  std::thread other([&] { forever.wait(); });
  EXPECT_NO_THROW(forever.wait());
  other.join();
}

TEST(Barrier, ActionMayAbortItsOwnRound) {
  weft::Barrier* self = nullptr;
  weft::Barrier barrier(2, [&] { self->abort(); });
  self = &barrier;
  std::atomic<int> broken_errors{0};
  {
    weft::testing::Bunch bunch(2, [&](std::size_t) {
      try {
        barrier.wait();
      } catch (const weft::BrokenBarrierError&) {
        broken_errors.fetch_add(1);
      }
    });
  }
  EXPECT_EQ(broken_errors.load(), 2);
  EXPECT_TRUE(barrier.broken());
}
