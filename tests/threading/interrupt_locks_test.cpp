// SPDX-License-Identifier: Apache-2.0
// Lock, RLock, Condition and Barrier waits cut short by an interrupt (#13): the call throws
// what the interrupt means, the object is as if the call had never been made (a cancelled
// acquire holds nothing, a cancelled Condition::wait holds its lock again, a cancelled
// Barrier wait withdraws its party without breaking the barrier), and an interrupt that
// races with the wake-up meant for that waiter never loses the wake-up: the waiter either
// takes it or leaves it for the next one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>

#include "threading/interrupt_support.hpp"
#include "weft/barrier.hpp"
#include "weft/condition.hpp"
#include "weft/errors.hpp"
#include "weft/lock.hpp"
#include "weft/rlock.hpp"

namespace {

using namespace std::chrono_literals;
using weft::testing::BlockedCall;
using weft::testing::Outcome;
using weft::testing::race;
using weft::testing::ScopeDeadline;
using weft::testing::StartGate;

// Rounds of the races: enough to hit both orders many times, few enough for TSan.
constexpr int kLockRaceRounds = 400;

TEST(InterruptLock, InterruptedAcquireHoldsNothingAndThrows) {
  weft::Lock lock;
  lock.acquire();
  std::atomic<bool> acquired{false};
  const Outcome o = weft::testing::interrupt_blocked([&] { acquired = lock.acquire(); },
                                                     [&] { lock.release(); });
  EXPECT_EQ(o, Outcome::kCancelled) << to_string(o);
  EXPECT_FALSE(acquired.load());
  ASSERT_TRUE(lock.locked()) << "still held by this thread";
  lock.release();
  EXPECT_TRUE(lock.acquire(false)) << "a cancelled waiter left the lock acquirable";
  lock.release();
}

TEST(InterruptLock, TimedAcquireIsInterruptedToo) {
  weft::Lock lock;
  lock.acquire();
  const Outcome o = weft::testing::interrupt_blocked([&] { (void)lock.acquire(1h); },
                                                     [&] { lock.release(); });
  EXPECT_EQ(o, Outcome::kCancelled) << to_string(o);
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(InterruptLock, TheOtherWaiterStillGetsTheLock) {
  weft::Lock lock;
  lock.acquire();
  std::atomic<int> acquired{0};
  BlockedCall first([&] {
    lock.acquire();
    ++acquired;
    lock.release();
  });
  ASSERT_TRUE(first.wait_parked());
  BlockedCall second([&] {
    lock.acquire();
    ++acquired;
    lock.release();
  });
  ASSERT_TRUE(second.wait_parked());
  first.interrupt();
  EXPECT_EQ(first.join(), Outcome::kCancelled);
  lock.release();
  EXPECT_EQ(second.join(), Outcome::kReturned);
  EXPECT_FALSE(second.rescued()) << "the release did not reach the remaining waiter";
  EXPECT_EQ(acquired.load(), 1);
  EXPECT_FALSE(lock.locked());
}

TEST(InterruptLock, APendingStopDoesNotFailAnUncontendedAcquire) {
  // A call that can complete without blocking completes.
  weft::Lock lock;
  weft::detail::interrupt_thread(weft::detail::current_thread_data(), weft::detail::kInterruptStop);
  const bool acquired = lock.acquire();
  weft::detail::clear_interrupts(weft::detail::kInterruptStop);
  EXPECT_TRUE(acquired);
  lock.release();
}

TEST(InterruptLock, APassedScopeDeadlineThrowsTimeoutErrorAndHoldsNothing) {
  weft::Lock lock;
  std::atomic<bool> threw_timeout{false};
  {
    BlockedCall holder([&] { lock.acquire(); });
    EXPECT_EQ(holder.join(), Outcome::kReturned);
  }
  ScopeDeadline scope(weft::detail::Clock::now());
  try {
    (void)lock.acquire(1h);
  } catch (const weft::TimeoutError&) {
    threw_timeout = true;
  }
  EXPECT_TRUE(threw_timeout.load());
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_TRUE(lock.acquire(false)) << "the timed-out waiter left the lock acquirable";
  lock.release();
}

TEST(InterruptLock, AnOwnTimeoutBeforeTheScopeDeadlineReturnsFalse) {
  weft::Lock lock;
  lock.acquire();
  std::atomic<bool> result{true};
  BlockedCall call([&] {
    ScopeDeadline scope(weft::detail::Clock::now() + 1h);
    result = lock.acquire(1ms);
  });
  EXPECT_EQ(call.join(), Outcome::kReturned);
  EXPECT_FALSE(result.load());
  lock.release();
}

// Two waiters; the release and an interrupt of the first waiter race. The first either
// gets the lock or throws; the second always gets it (no lost wake-up).
template <class L>
void release_races_interrupt(L& lock) {
  for (int round = 0; round < kLockRaceRounds; ++round) {
    std::atomic<int> acquired{0};
    lock.acquire();
    auto take = [&] {
      lock.acquire();
      ++acquired;
      lock.release();
    };
    BlockedCall first(take);
    ASSERT_TRUE(first.wait_parked());
    BlockedCall second(take);
    ASSERT_TRUE(second.wait_parked());
    race([&] { lock.release(); }, [&] { first.interrupt(); });
    const Outcome a = first.join();
    const Outcome b = second.join();
    ASSERT_TRUE(a == Outcome::kReturned || a == Outcome::kCancelled) << to_string(a);
    ASSERT_EQ(b, Outcome::kReturned) << "round " << round;
    ASSERT_FALSE(second.rescued()) << "lost wake-up in round " << round;
    ASSERT_EQ(acquired.load(), a == Outcome::kReturned ? 2 : 1) << "round " << round;
    ASSERT_FALSE(lock.locked()) << "round " << round;
  }
}

TEST(InterruptLock, ReleaseRacingAnInterruptLosesNoWakeUp) {
  weft::Lock lock;
  release_races_interrupt(lock);
}

TEST(InterruptRLock, InterruptedAcquireHoldsNothingAndThrows) {
  weft::RLock lock;
  lock.acquire();
  lock.acquire();
  std::atomic<bool> owned_after{true};
  const Outcome o = weft::testing::interrupt_blocked([&] {
    try {
      lock.acquire();
    } catch (...) {
      owned_after = lock.is_owned();
      throw;
    }
  });
  EXPECT_EQ(o, Outcome::kCancelled) << to_string(o);
  EXPECT_FALSE(owned_after.load());
  EXPECT_TRUE(lock.is_owned()) << "the owner still holds both levels";
  lock.release();
  lock.release();
  EXPECT_FALSE(lock.locked());
  BlockedCall other([&] {
    lock.acquire();
    lock.release();
  });
  EXPECT_EQ(other.join(), Outcome::kReturned);
}

TEST(InterruptRLock, ReleaseRacingAnInterruptLosesNoWakeUp) {
  weft::RLock lock;
  release_races_interrupt(lock);
}

// One Condition::wait (over `lock`) in a thread; counts returns, and throws with the lock
// held.
template <class L>
std::function<void()> wait_once(L& lock, weft::Condition& cv, std::atomic<int>& returned,
                                std::atomic<int>& lock_held_on_throw) {
  return [&] {
    std::scoped_lock hold(cv);
    try {
      cv.wait();
    } catch (const weft::CancelledError&) {
      if (lock.is_owned()) ++lock_held_on_throw;
      throw;
    }
    ++returned;
  };
}

template <class L>
void condition_interrupted_wait_holds_the_lock() {
  L lock;
  weft::Condition cv(lock);
  std::atomic<int> returned{0};
  std::atomic<int> held_on_throw{0};
  const Outcome o = weft::testing::interrupt_blocked(wait_once(lock, cv, returned, held_on_throw), [&] {
    std::scoped_lock hold(cv);
    cv.notify_all();
  });
  EXPECT_EQ(o, Outcome::kCancelled) << to_string(o);
  EXPECT_EQ(held_on_throw.load(), 1) << "a cancelled wait returns with the lock held again";
  EXPECT_FALSE(lock.locked()) << "and its scope released it";
  // The condition still works: a later waiter is notified.
  BlockedCall later(wait_once(lock, cv, returned, held_on_throw), [&] {
    std::scoped_lock hold(cv);
    cv.notify_all();
  });
  ASSERT_TRUE(later.wait_parked());
  {
    std::scoped_lock hold(cv);
    cv.notify();
  }
  EXPECT_EQ(later.join(), Outcome::kReturned);
  EXPECT_FALSE(later.rescued());
  EXPECT_EQ(returned.load(), 1);
}

TEST(InterruptCondition, InterruptedWaitHoldsTheLockAgainAndThrows) {
  condition_interrupted_wait_holds_the_lock<weft::Lock>();
}

TEST(InterruptCondition, InterruptedWaitOverRLockHoldsTheLockAgainAndThrows) {
  condition_interrupted_wait_holds_the_lock<weft::RLock>();
}

TEST(InterruptCondition, APassedScopeDeadlineThrowsTimeoutErrorWithTheLockHeld) {
  weft::Lock lock;
  weft::Condition cv(lock);
  ScopeDeadline scope(weft::detail::Clock::now());
  std::scoped_lock hold(cv);
  EXPECT_THROW(cv.wait(), weft::TimeoutError);
  EXPECT_TRUE(lock.locked());
}

// Two waiters; notify(n) and an interrupt of the first waiter race. Exactly the notified
// waiters return: if the first was interrupted, the notification went to the second.
template <class L>
void notify_races_interrupt(std::size_t notify_n) {
  L lock;
  weft::Condition cv(lock);
  for (int round = 0; round < kLockRaceRounds; ++round) {
    std::atomic<int> returned{0};
    std::atomic<int> held_on_throw{0};
    auto rescue = [&] {
      std::scoped_lock hold(cv);
      cv.notify_all();
    };
    // Both in cv.wait(), not merely parked: the second parks on the lock on its way in
    // while the first, already queued on cv, still holds it; there it would miss the
    // notification.
    BlockedCall first(wait_once(lock, cv, returned, held_on_throw), rescue);
    ASSERT_TRUE(first.wait_parked_in(&cv));
    BlockedCall second(wait_once(lock, cv, returned, held_on_throw), rescue);
    ASSERT_TRUE(second.wait_parked_in(&cv));
    race(
        [&] {
          std::scoped_lock hold(cv);
          cv.notify(notify_n);
        },
        [&] { first.interrupt(); });
    const Outcome a = first.join();
    ASSERT_TRUE(a == Outcome::kReturned || a == Outcome::kCancelled) << to_string(a);
    if (a == Outcome::kReturned && notify_n == 1) {
      // The first took the notification; the second still waits for one.
      ASSERT_TRUE(second.wait_parked_in(&cv));
      std::scoped_lock hold(cv);
      cv.notify();
    }
    ASSERT_EQ(second.join(), Outcome::kReturned) << "round " << round;
    ASSERT_FALSE(second.rescued()) << "lost notification in round " << round;
    ASSERT_EQ(held_on_throw.load(), a == Outcome::kCancelled ? 1 : 0);
    ASSERT_EQ(returned.load(), a == Outcome::kReturned ? 2 : 1);
    ASSERT_FALSE(lock.locked());
  }
}

TEST(InterruptCondition, NotifyOneRacingAnInterruptLosesNoNotification) {
  notify_races_interrupt<weft::Lock>(1);
}

TEST(InterruptCondition, NotifyAllRacingAnInterruptLosesNoNotification) {
  // notify_all requeues the waiters onto the lock (held by the notifier): the interrupt
  // may find the first waiter on the condition's queue or on the lock's.
  notify_races_interrupt<weft::Lock>(2);
}

TEST(InterruptCondition, NotifyRacingAnInterruptOverRLock) {
  notify_races_interrupt<weft::RLock>(1);
}

TEST(InterruptBarrier, InterruptedWaitWithdrawsItsPartyAndLeavesTheBarrierUnbroken) {
  weft::Barrier barrier(3);
  std::atomic<int> passed{0};
  auto pass = [&] {
    barrier.wait();
    ++passed;
  };
  BlockedCall first(pass, [&] { barrier.abort(); });
  ASSERT_TRUE(first.wait_parked());
  BlockedCall second(pass, [&] { barrier.abort(); });
  // Counted, not merely parked: the second parks on the barrier's internal lock on its
  // way in while the first, already queued, still holds it.
  ASSERT_TRUE(weft::testing::poll_until([&] { return barrier.n_waiting() == 2; }));
  ASSERT_TRUE(second.wait_parked());
  first.interrupt();
  EXPECT_EQ(first.join(), Outcome::kCancelled);
  EXPECT_EQ(barrier.n_waiting(), 1u) << "the cancelled party withdrew";
  EXPECT_FALSE(barrier.broken());
  // Two more parties complete the round with the second.
  BlockedCall third(pass, [&] { barrier.abort(); });
  ASSERT_TRUE(third.wait_parked());
  pass();
  EXPECT_EQ(second.join(), Outcome::kReturned);
  EXPECT_EQ(third.join(), Outcome::kReturned);
  EXPECT_EQ(passed.load(), 3);
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

TEST(InterruptBarrier, APassedScopeDeadlineThrowsTimeoutErrorWithoutBreaking) {
  weft::Barrier barrier(2);
  {
    ScopeDeadline scope(weft::detail::Clock::now());
    EXPECT_THROW(barrier.wait(), weft::TimeoutError);
  }
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
  BlockedCall other([&] { barrier.wait(); }, [&] { barrier.abort(); });
  barrier.wait();
  EXPECT_EQ(other.join(), Outcome::kReturned);
}

TEST(InterruptBarrier, TheLastArrivalRacingAnInterruptCompletesOneRound) {
  // A waiting party is interrupted as the last party arrives: either the round completes
  // with it (it returns its index) or it withdraws and the arriving party waits for a
  // new one. Every round ends with the barrier unbroken and empty.
  weft::Barrier barrier(2);
  for (int round = 0; round < kLockRaceRounds; ++round) {
    std::atomic<int> passed{0};
    auto pass = [&] {
      barrier.wait();
      ++passed;
    };
    BlockedCall first(pass, [&] { barrier.abort(); });
    ASSERT_TRUE(first.wait_parked());
    StartGate gate(2);
    BlockedCall arriving(
        [&] {
          gate.arrive_and_wait();
          pass();
        },
        [&] { barrier.abort(); });
    {
      std::thread interrupter([&] {
        gate.arrive_and_wait();
        first.interrupt();
      });
      interrupter.join();
    }
    const Outcome a = first.join();
    ASSERT_TRUE(a == Outcome::kReturned || a == Outcome::kCancelled) << to_string(a);
    if (a == Outcome::kCancelled) pass();  // completes the arriving party's round
    ASSERT_EQ(arriving.join(), Outcome::kReturned) << "round " << round;
    ASSERT_FALSE(arriving.rescued()) << "round " << round;
    ASSERT_EQ(passed.load(), 2) << "round " << round;
    ASSERT_FALSE(barrier.broken()) << "round " << round;
    ASSERT_EQ(barrier.n_waiting(), 0u) << "round " << round;
  }
}

}  // namespace
