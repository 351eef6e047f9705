// SPDX-License-Identifier: Apache-2.0
// weft's one lock algorithm (detail/lock_algorithm.hpp, src/threading/lock_slow_path.hpp)
// on a word other than the primitives' byte, with hooks that record when they run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "prims_support.hpp"
#include "threading/lock_slow_path.hpp"
#include "weft/barrier.hpp"
#include "weft/condition.hpp"
#include "weft/rlock.hpp"

namespace {

using Algorithm = weft::detail::LockAlgorithm<std::uint32_t>;
using weft::detail::Deadline;

// Records the hooks each thread runs, in order.
struct RecordingHooks : weft::detail::NoLockHooks {
  std::vector<std::string>* events;
  const void* object;

  void before_lock(Deadline) { events->push_back("before_lock"); }
  void after_lock(bool acquired, bool contended) {
    events->push_back(std::string("after_lock ") + (acquired ? "acquired" : "failed") +
                      (contended ? " contended" : ""));
  }
  void enter_parking_lot() { events->push_back("enter"); }
  void leave_parking_lot() { events->push_back("leave"); }
  weft::detail::WaitSite wait_site() const {
    return weft::detail::WaitSite{object, weft::detail::ObjKind::other, {}};
  }
  void before_unlock() { events->push_back("before_unlock"); }
  void not_held() { events->push_back("not_held"); }
  void on_release() { events->push_back("on_release"); }
  void after_unlock() { events->push_back("after_unlock"); }
};

using Events = std::vector<std::string>;

TEST(LockAlgorithm, UncontendedLockAndUnlockRunTheHooksInOrder) {
  Algorithm::Atomic word{0};
  Events events;
  RecordingHooks hooks{{}, &events, &word};
  EXPECT_TRUE(Algorithm::lock_slow(word, weft::detail::kForever, hooks, weft::detail::Interruptible::kNo));
  EXPECT_EQ(word.load(), Algorithm::kHeld);
  EXPECT_TRUE(Algorithm::is_held(word));
  Algorithm::unlock_slow(word, hooks);
  EXPECT_EQ(word.load(), 0u);
  EXPECT_EQ(events, (Events{"before_lock", "after_lock acquired", "before_unlock", "on_release",
                            "after_unlock"}));
}

TEST(LockAlgorithm, ATryOfAHeldWordFailsWithoutParking) {
  Algorithm::Atomic word{0};
  ASSERT_TRUE(Algorithm::try_lock_fast(word));
  EXPECT_FALSE(Algorithm::try_lock_fast(word));
  Events events;
  RecordingHooks hooks{{}, &events, &word};
  EXPECT_FALSE(Algorithm::lock_slow(word, weft::detail::kImmediate, hooks, weft::detail::Interruptible::kNo));
  EXPECT_EQ(events, (Events{"before_lock", "after_lock failed"}));
  EXPECT_EQ(word.load(), Algorithm::kHeld);
  EXPECT_TRUE(Algorithm::unlock_fast(word));
  EXPECT_EQ(word.load(), 0u);
}

TEST(LockAlgorithm, AParkedWaiterGetsTheLockOnRelease) {
  Algorithm::Atomic word{0};
  ASSERT_TRUE(Algorithm::try_lock_fast(word));
  Events waiter_events;
  std::atomic<bool> acquired{false};
  weft::testing::Bunch waiter(1, [&](std::size_t) {
    RecordingHooks hooks{{}, &waiter_events, &word};
    acquired = Algorithm::lock_slow(word, weft::detail::kForever, hooks, weft::detail::Interruptible::kNo);
  });
  const bool parked = waiter.wait_all_parked();
  EXPECT_TRUE(parked);
  EXPECT_EQ(word.load(), Algorithm::kHeld | Algorithm::kParked);
  // Not the fast path: a thread is parked.
  EXPECT_FALSE(Algorithm::unlock_fast(word));
  Events events;
  RecordingHooks hooks{{}, &events, &word};
  Algorithm::unlock_slow(word, hooks);
  EXPECT_EQ(events, (Events{"before_unlock", "on_release", "enter", "leave", "after_unlock"}));
  waiter.join();
  EXPECT_TRUE(acquired.load());
  // The waiter holds the lock (handed off or taken) and nobody is parked any more.
  EXPECT_EQ(word.load(), Algorithm::kHeld);
  ASSERT_FALSE(waiter_events.empty());
  EXPECT_EQ(waiter_events.front(), "before_lock");
  EXPECT_EQ(waiter_events.back(), "after_lock acquired contended");
}

TEST(LockAlgorithm, TheLastWaiterToTimeOutClearsTheParkedBit) {
  Algorithm::Atomic word{0};
  ASSERT_TRUE(Algorithm::try_lock_fast(word));
  Events events;
  RecordingHooks hooks{{}, &events, &word};
  const Deadline deadline = weft::detail::deadline_after(std::chrono::milliseconds(20));
  EXPECT_FALSE(Algorithm::lock_slow(word, deadline, hooks, weft::detail::Interruptible::kNo));
  EXPECT_GE(weft::detail::Clock::now(), deadline);
  EXPECT_EQ(events.back(), "after_lock failed contended");
  // (LA6): the word says "held, nobody parked", so the release takes the fast path.
  EXPECT_EQ(word.load(), Algorithm::kHeld);
  EXPECT_TRUE(Algorithm::unlock_fast(word));
}

TEST(LockAlgorithm, UnlockOfAWordNobodyHoldsCallsNotHeld) {
  Algorithm::Atomic word{0};
  Events events;
  RecordingHooks hooks{{}, &events, &word};
  Algorithm::unlock_slow(word, hooks);  // this hook returns: the word stays unlocked
  EXPECT_EQ(events.front(), "before_unlock");
  EXPECT_EQ(events.at(1), "not_held");
  EXPECT_EQ(word.load(), 0u);
}

TEST(LockAlgorithm, MarkParkedIfHeldOnlyMarksAHeldWord) {
  Algorithm::Atomic word{0};
  EXPECT_FALSE(Algorithm::mark_parked_if_held(word));
  EXPECT_EQ(word.load(), 0u);
  word.store(Algorithm::kHeld);
  EXPECT_TRUE(Algorithm::mark_parked_if_held(word));
  EXPECT_EQ(word.load(), Algorithm::kHeld | Algorithm::kParked);
  Algorithm::waiter_left(word, false);
  EXPECT_EQ(word.load(), Algorithm::kHeld | Algorithm::kParked);
  Algorithm::waiter_left(word, true);
  EXPECT_EQ(word.load(), Algorithm::kHeld);
}

// Every acquisition, whether by compare-and-swap or by a fair hand-off from the releaser
// (about once per millisecond of contention), makes the acquiring thread the owner with
// one level: it can re-enter and release every level, and nobody else can release.
TEST(RLockAlgorithm, OwnershipHoldsAcrossHandOffs) {
  constexpr std::size_t kThreads = 4;
  constexpr int kRounds = 20000;
  weft::RLock lock;
  long counter = 0;
  std::atomic<int> not_owned{0};
  std::atomic<bool> start{false};
  weft::testing::Bunch threads(kThreads, [&](std::size_t t) {
    while (!start.load()) std::this_thread::yield();  // contend from the first round
    for (int i = 0; i < kRounds; ++i) {
      if (t % 2 == 0) {
        lock.acquire();
      } else {
        while (!lock.acquire(std::chrono::seconds(10))) {}
      }
      if (!lock.is_owned()) not_owned.fetch_add(1);
      lock.acquire();  // re-entry: the owner never blocks
      ++counter;
      lock.release();
      if (!lock.is_owned()) not_owned.fetch_add(1);
      lock.release();
    }
  });
  threads.wait_started();
  start = true;
  threads.join();
  EXPECT_EQ(not_owned.load(), 0);
  EXPECT_EQ(counter, static_cast<long>(kThreads) * kRounds);
  EXPECT_FALSE(lock.locked());
}

// Waiters requeued from a Condition onto its RLock get the lock back at their own level.
TEST(RLockAlgorithm, RequeuedConditionWaitersGetTheirLevelsBack) {
  constexpr std::size_t kWaiters = 4;
  weft::RLock lock;
  weft::Condition cond(lock);
  bool go = false;
  std::atomic<int> wrong{0};
  weft::testing::Bunch waiters(kWaiters, [&](std::size_t i) {
    const std::size_t levels = 1 + i % 3;
    for (std::size_t l = 0; l < levels; ++l) lock.acquire();
    cond.wait_for([&] { return go; });
    if (!lock.is_owned()) wrong.fetch_add(1);
    for (std::size_t l = 0; l < levels; ++l) lock.release();
    if (lock.is_owned()) wrong.fetch_add(1);
  });
  // In cond.wait_for(), not on the lock on their way in: only waiters are requeued.
  const bool parked = waiters.wait_all_parked_in(&cond);
  EXPECT_TRUE(parked);
  {
    std::scoped_lock hold(lock);
    go = true;
    cond.notify_all();
  }
  waiters.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_FALSE(lock.locked());
}

// Barrier's internal lock under contention: parties waiting while other threads poll
// n_waiting() and broken(), which take the same lock.
TEST(BarrierAlgorithm, InternalLockUnderContention) {
  constexpr std::size_t kParties = 3;
  constexpr int kRounds = 400;
  std::atomic<int> actions{0};
  weft::Barrier barrier(kParties, [&] { actions.fetch_add(1); });
  std::atomic<bool> done{false};
  std::atomic<int> bad_snapshots{0};
  std::vector<std::atomic<unsigned>> seen(kRounds);
  {
    weft::testing::Bunch pollers(2, [&](std::size_t) {
      while (!done.load()) {
        if (barrier.n_waiting() > kParties || barrier.broken()) bad_snapshots.fetch_add(1);
        std::this_thread::yield();
      }
    });
    struct StopPollers {
      std::atomic<bool>& done;
      ~StopPollers() { done = true; }
    } stop{done};
    weft::testing::Bunch parties(kParties, [&](std::size_t) {
      for (int r = 0; r < kRounds; ++r)
        seen[static_cast<std::size_t>(r)].fetch_or(1u << barrier.wait());
    });
    parties.join();
  }
  EXPECT_EQ(bad_snapshots.load(), 0);
  EXPECT_EQ(actions.load(), kRounds);
  for (int r = 0; r < kRounds; ++r)
    EXPECT_EQ(seen[static_cast<std::size_t>(r)].load(), (1u << kParties) - 1) << "round " << r;
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

}  // namespace

namespace {

#if defined(WEFT_ENABLE_ASSERTS)
// An invariant violation is a weft bug: the process stops at once and says where.
TEST(WeftAssertDeathTest, AViolatedInvariantAbortsWithFileLineAndCondition) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Algorithm::Atomic word{0};
        weft::detail::NoLockHooks hooks;  // its not_held() is an invariant: callers hold the lock
        Algorithm::unlock_slow(word, hooks);
      },
      "lock_slow_path\\.hpp:[0-9]+: weft invariant violated: .*not held");
}
#else
// Off in release builds: the condition is not even evaluated.
TEST(WeftAssert, IsOffAndEvaluatesNothing) {
  int evaluated = 0;
  WEFT_ASSERT(++evaluated == 0);
  EXPECT_EQ(evaluated, 0);
}
#endif

}  // namespace
