// SPDX-License-Identifier: Apache-2.0
// Condition unit tests: lock forwarding, misuse, wait/notify, timeouts, RLock levels.
#include "support/blocking.hpp"
#include "weft/condition.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "threading/prims_support.hpp"
#include "weft/errors.hpp"

using namespace std::chrono_literals;
using weft::testing::expect_blocks_until;

TEST(Condition, ForwardsAcquireAndReleaseToItsRLock) {
  weft::Condition cond("condition under test");
  EXPECT_TRUE(cond.acquire());
  EXPECT_TRUE(cond.acquire(false));  // the default lock is re-entrant
  cond.release();
  cond.release();
  EXPECT_THROW(cond.release(), weft::RuntimeError);
  {
    std::scoped_lock hold(cond);
    EXPECT_TRUE(cond.try_lock());
    cond.unlock();
  }
  EXPECT_TRUE(cond.try_lock_for(1ms));
  cond.unlock();
}

TEST(Condition, ForwardsToAGivenLock) {
  weft::Lock lock;
  weft::Condition cond(lock);
  cond.acquire();
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(cond.acquire(false));  // a Lock is not re-entrant
  cond.release();
  EXPECT_FALSE(lock.locked());
}

TEST(Condition, WaitWithoutTheLockIsRuntimeError) {
  weft::Condition cond;
  try {
    cond.wait();
    FAIL() << "wait() without the lock did not throw";
  } catch (const weft::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot wait on un-acquired lock");
  }
  EXPECT_THROW(cond.wait(1ms), weft::RuntimeError);
  EXPECT_THROW(cond.wait_for([] { return false; }), weft::RuntimeError);
  weft::Lock lock;
  weft::Condition on_lock(lock);
  EXPECT_THROW(on_lock.wait(), weft::RuntimeError);
}

TEST(Condition, NotifyWithoutTheLockIsRuntimeError) {
  weft::Condition cond;
  try {
    cond.notify();
    FAIL() << "notify() without the lock did not throw";
  } catch (const weft::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot notify on un-acquired lock");
  }
  EXPECT_THROW(cond.notify_all(), weft::RuntimeError);
  // Another thread's RLock does not count.
  std::promise<void> go;
  std::atomic<bool> held{false};
  std::thread owner([&] {
    cond.acquire();
    held = true;
    go.get_future().wait();
    cond.release();
  });
  while (!held) std::this_thread::yield();
  EXPECT_THROW(cond.notify(), weft::RuntimeError);
  go.set_value();
  owner.join();
}

TEST(Condition, WaitBlocksUntilNotified) {
  weft::Condition cond;
  cond.acquire();
  expect_blocks_until([&] { cond.wait(); },
                      [&] {
                        std::scoped_lock hold(cond);
                        cond.notify();
                      });
  // wait() returns with the lock held again.
  cond.release();
  EXPECT_THROW(cond.release(), weft::RuntimeError);
}

TEST(Condition, TimedWaitReturnsTrueWhenNotified) {
  weft::Lock lock;
  weft::Condition cond(lock);
  std::scoped_lock hold(cond);
  const bool notified = expect_blocks_until([&] { return cond.wait(1h); },
                                            [&] {
                                              std::scoped_lock inner(cond);
                                              cond.notify();
                                            });
  EXPECT_TRUE(notified);
  EXPECT_TRUE(lock.locked());
}

TEST(Condition, TimedWaitReturnsFalseAfterTheTimeoutWithTheLockHeld) {
  weft::Condition cond;
  std::scoped_lock hold(cond);
  bool notified = true;
  const auto took = weft::testing::time_of([&] { notified = cond.wait(20ms); });
  EXPECT_FALSE(notified);
  EXPECT_GE(took, 20ms);
  EXPECT_FALSE(cond.wait(0s));
  EXPECT_FALSE(cond.wait(-1s));
}

TEST(Condition, NotifyWithNoWaiterIsNotRemembered) {
  weft::Condition cond;
  std::scoped_lock hold(cond);
  cond.notify();
  cond.notify_all();
  EXPECT_FALSE(cond.wait(5ms));
}

TEST(Condition, NotifyNWakesAtMostN) {
  weft::Lock lock;
  weft::Condition cond(lock);
  std::atomic<int> woke{0};
  weft::testing::Bunch bunch(5, [&](std::size_t) {
    std::scoped_lock hold(cond);
    cond.wait();
    woke.fetch_add(1);
  });
  // All five parked in cond.wait(), not merely parked: one still parked on the lock on
  // its way in would miss notify(2). EXPECT, not ASSERT: an early return would leave
  // ~Bunch joining blocked threads.
  EXPECT_TRUE(bunch.wait_all_parked_in(&cond));
  {
    std::scoped_lock hold(cond);
    cond.notify(2);
  }
  EXPECT_TRUE(bunch.wait_done(2));
  EXPECT_TRUE(bunch.wait_parked_in(&cond, 3));
  EXPECT_EQ(woke.load(), 2);
  {
    std::scoped_lock hold(cond);
    cond.notify();
  }
  EXPECT_TRUE(bunch.wait_done(3));
  EXPECT_EQ(woke.load(), 3);
  {
    std::scoped_lock hold(cond);
    cond.notify_all();
  }
  bunch.join();
  EXPECT_EQ(woke.load(), 5);
}

namespace {
// Eight waiters that each need the lock after being woken; notify_all() must release
// them all, and each must come back holding the lock (checked by the counter).
void notify_all_wakes_everyone(weft::Condition& cond) {
  int inside = 0;
  int woke = 0;
  weft::testing::Bunch bunch(8, [&](std::size_t i) {
    std::scoped_lock hold(cond);
    if (i % 2 == 0) {
      cond.wait();
    } else {
      EXPECT_TRUE(cond.wait(1h));
    }
    EXPECT_EQ(++inside, 1);
    ++woke;
    --inside;
  });
  // All eight parked in cond.wait(), not merely parked: one still parked on the lock on
  // its way in would miss notify_all() and wait for ever. No early return: notify_all()
  // releases them.
  EXPECT_TRUE(bunch.wait_all_parked_in(&cond));
  {
    std::scoped_lock hold(cond);
    cond.notify_all();
  }
  bunch.join();
  EXPECT_EQ(woke, 8);
}
}  // namespace

TEST(Condition, NotifyAllWakesEveryWaiterWithALock) {
  weft::Lock lock;
  weft::Condition cond(lock);
  notify_all_wakes_everyone(cond);
  EXPECT_FALSE(lock.locked());
}

TEST(Condition, NotifyAllWakesEveryWaiterWithAnRLock) {
  weft::RLock lock;
  weft::Condition cond(lock);
  notify_all_wakes_everyone(cond);
  EXPECT_FALSE(lock.locked());
}

TEST(Condition, NotifyAllWakesEveryWaiterWithItsOwnRLock) {
  weft::Condition cond;
  notify_all_wakes_everyone(cond);
  EXPECT_TRUE(cond.acquire(false));
  cond.release();
}

TEST(Condition, WaitReleasesEveryRLockLevelAndRestoresThem) {
  weft::RLock lock;
  weft::Condition cond(lock);
  lock.acquire();
  lock.acquire();
  lock.acquire();
  expect_blocks_until([&] { cond.wait(); },
                      [&] {
                        // The waiter holds three levels, yet another thread gets the lock.
                        EXPECT_TRUE(lock.acquire(false));
                        cond.notify();
                        lock.release();
                      });
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  lock.release();
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(lock.release(), weft::RuntimeError);
}

TEST(Condition, WaitForReturnsOncePredicateHolds) {
  weft::Condition cond;
  std::deque<int> items;
  std::scoped_lock hold(cond);
  const bool result = expect_blocks_until(
      [&] { return cond.wait_for([&] { return !items.empty(); }); },
      [&] {
        {
          std::scoped_lock inner(cond);
          cond.notify();  // predicate still false: the waiter must wait again
        }
        std::scoped_lock inner(cond);
        items.push_back(7);
        cond.notify();
      });
  EXPECT_TRUE(result);
  EXPECT_EQ(items.size(), 1u);
}

TEST(Condition, WaitForReturnsTrueAtOnceWhenPredicateHolds) {
  weft::Condition cond;
  std::scoped_lock hold(cond);
  EXPECT_TRUE(cond.wait_for([] { return true; }));
  EXPECT_TRUE(cond.wait_for([] { return true; }, 0s));
}

TEST(Condition, WaitForWithTimeoutReturnsTheLastPredicateValue) {
  weft::Condition cond;
  std::scoped_lock hold(cond);
  int calls = 0;
  bool result = true;
  const auto took =
      weft::testing::time_of([&] { result = cond.wait_for([&] { ++calls; return false; }, 20ms); });
  EXPECT_FALSE(result);
  EXPECT_GE(took, 20ms);
  EXPECT_GE(calls, 1);
  EXPECT_FALSE(cond.wait_for([] { return false; }, -1s));
}

TEST(Condition, NotifyPublishesWritesMadeUnderTheLock) {
  weft::Condition cond;
  int payload = 0;
  std::thread producer;
  {
    std::scoped_lock hold(cond);
    producer = std::thread([&] {
      std::scoped_lock inner(cond);
      payload = 99;
      cond.notify();
    });
    cond.wait_for([&] { return payload != 0; });
    EXPECT_EQ(payload, 99);
  }
  producer.join();
}

namespace {
// True once the thread `ident` is parked waiting on an object of kind `kind`; false
// after 60 s or as soon as `gone` is true.
bool wait_parked_on(std::uint64_t ident, weft::detail::ObjKind kind,
                    const std::atomic<bool>* gone = nullptr) {
  bool parked = false;
  weft::testing::poll_until([&] {
    parked = weft::testing::count_parked([&](const weft::detail::ParkedThread& t) {
               return t.ident == ident && t.site.kind == kind;
             }) > 0;
    return parked || (gone != nullptr && gone->load());
  });
  return parked;
}

// notify_all() moves the waiter onto the lock's queue; its timeout passes there while
// the notifier still holds the lock. It was notified, so wait() must return true, with
// the lock reacquired, and the lock must be left clean.
// One attempt with the waiter's timeout `timeout`. The notification must come before
// the waiter's deadline, which a loaded machine cannot promise for a short timeout:
// returns false (nothing checked) when notify_all() did not end before
// wait_start + timeout (the earliest the deadline can be), so the caller retries.
template <class L>
bool requeued_waiter_attempt(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  L lock;
  weft::Condition cond(lock);
  std::atomic<std::uint64_t> ident{0};
  std::atomic<Clock::rep> wait_start{0};
  std::atomic<bool> finished{false};
  bool notified = false;
  std::thread waiter([&] {
    ident = weft::detail::current_ident();
    lock.acquire();
    lock.acquire(false);  // a second level for an RLock; a no-op try for a Lock
    wait_start = Clock::now().time_since_epoch().count();
    notified = cond.wait(timeout);
    lock.release();
    if constexpr (std::is_same_v<L, weft::RLock>) lock.release();
    finished = true;
  });
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();
    }
  } joiner{waiter};
  while (ident.load() == 0) std::this_thread::yield();
  if (!wait_parked_on(ident.load(), weft::detail::ObjKind::condition, &finished)) {
    EXPECT_TRUE(finished.load()) << "the waiter never parked on the condition";
    return false;
  }
  lock.acquire();
  cond.notify_all();
  const Clock::time_point earliest_deadline{Clock::duration(wait_start.load()) + timeout};
  if (Clock::now() >= earliest_deadline) {
    lock.release();  // too late to be sure the waiter was still waiting
    return false;
  }
  // After its deadline the waiter leaves the lock's queue and blocks in the lock's own
  // acquire (parked on the lock itself).
  const weft::detail::ObjKind lock_kind = std::is_same_v<L, weft::RLock>
                                              ? weft::detail::ObjKind::rlock
                                              : weft::detail::ObjKind::lock;
  EXPECT_TRUE(wait_parked_on(ident.load(), lock_kind));
  lock.release();
  waiter.join();
  EXPECT_TRUE(notified);
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
  return true;
}

template <class L>
void requeued_waiter_times_out_on_the_lock_queue() {
  for (auto timeout = 30ms;; timeout *= 2) {
    if (requeued_waiter_attempt<L>(timeout)) return;
    ASSERT_LT(timeout, 30s) << "never managed to notify before the waiter's deadline";
  }
}
}  // namespace

TEST(Condition, RequeuedWaiterTimingOutOnALockStillReportsNotified) {
  requeued_waiter_times_out_on_the_lock_queue<weft::Lock>();
}

TEST(Condition, RequeuedWaiterTimingOutOnAnRLockStillReportsNotified) {
  requeued_waiter_times_out_on_the_lock_queue<weft::RLock>();
}

TEST(Condition, ZeroTimeoutWaitLetsOtherThreadsTakeTheLock) {
  // Python's wait(0) releases and reacquires the lock, so polling with it makes progress.
  weft::Lock lock;
  weft::Condition cond(lock);
  bool ready = false;
  std::thread setter([&] {
    std::scoped_lock hold(cond);
    ready = true;
  });
  {
    std::scoped_lock hold(cond);
    while (!ready) EXPECT_FALSE(cond.wait(0s));
  }
  setter.join();
  EXPECT_TRUE(ready);
}
