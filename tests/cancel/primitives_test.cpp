// SPDX-License-Identifier: Apache-2.0
// The public stops (Thread::request_stop, Timeout) on the blocking calls of the primitives:
// the call wakes with CancelledError / TimeoutError and its object is left intact. On
// virtual time: a stop comes once testing::wait() saw the other thread blocked, and a
// Timeout ends at exactly its deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "weft/cancel.hpp"
#include "weft/futures.hpp"
#include "weft/queue.hpp"
#include "weft/testing.hpp"
#include "weft/threading.hpp"

namespace {

using namespace std::chrono_literals;
using weft::CancelledError;
using weft::TimeoutError;

weft::clock::duration since(weft::clock::time_point t0) { return weft::clock::now() - t0; }

// Runs `blocking` on a new thread of the bubble, stops that thread once it is blocked,
// and returns whether the call threw CancelledError (and nothing else happened).
template <class Blocking>
bool cancelled_by_request_stop(Blocking blocking) {
  std::atomic<int> outcome{0};  // 1: returned, 2: CancelledError
  weft::Thread t([&] {
    try {
      blocking();
      outcome = 1;
    } catch (const CancelledError&) {
      outcome = 2;
      throw;  // ends the thread quietly: its stop was requested
    }
  });
  t.start();
  weft::testing::wait();
  t.request_stop();
  t.join();
  return outcome == 2;
}

TEST(StopPrimitives, LockAcquireHoldsNothing) {
  weft::testing::run([] {
    weft::Lock lock;
    lock.acquire();
    EXPECT_TRUE(cancelled_by_request_stop([&] { lock.acquire(); }));
    EXPECT_TRUE(lock.locked());
    lock.release();
    EXPECT_FALSE(lock.locked()) << "the cancelled waiter did not take it";
    EXPECT_TRUE(lock.acquire(false));
    lock.release();
  });
}

TEST(StopPrimitives, LockAcquireInATimeoutEndsAtTheDeadline) {
  weft::testing::run([] {
    weft::Lock lock;
    lock.acquire();
    weft::Thread t([&] {
      const auto t0 = weft::clock::now();
      weft::Timeout budget(5s);
      EXPECT_FALSE(lock.acquire(2s)) << "own timeout first: a plain failure";
      EXPECT_THROW(lock.acquire(), TimeoutError);
      EXPECT_EQ(since(t0), 5s);
    });
    t.start();
    t.join();
    EXPECT_TRUE(lock.locked());
    lock.release();
  });
}

TEST(StopPrimitives, RLockAcquireHoldsNothing) {
  weft::testing::run([] {
    weft::RLock lock;
    lock.acquire();
    EXPECT_TRUE(cancelled_by_request_stop([&] { lock.acquire(); }));
    lock.release();
    weft::Thread other([&] {
      EXPECT_TRUE(lock.acquire(false));
      lock.release();
    });
    other.start();
    other.join();
  });
}

TEST(StopPrimitives, ConditionWaitReturnsWithTheLockHeld) {
  weft::testing::run([] {
    weft::Condition cond;
    std::atomic<bool> held_after{false};
    EXPECT_TRUE(cancelled_by_request_stop([&] {
      std::unique_lock hold(cond);
      try {
        cond.wait();
      } catch (const CancelledError&) {
        held_after = hold.owns_lock();
        cond.notify();  // needs the lock: throws RuntimeError if it were not held
        throw;
      }
    }));
    EXPECT_TRUE(held_after);
  });
}

TEST(StopPrimitives, BarrierWaitWithdrawsItsPartyWithoutBreakingIt) {
  weft::testing::run([] {
    weft::Barrier barrier(2);
    EXPECT_TRUE(cancelled_by_request_stop([&] { barrier.wait(); }));
    EXPECT_FALSE(barrier.broken());
    EXPECT_EQ(barrier.n_waiting(), 0u);
    weft::Thread partner([&] { barrier.wait(); });
    partner.start();
    barrier.wait();  // the barrier still works with two fresh parties
    partner.join();
  });
}

TEST(StopPrimitives, SemaphoreAcquireTakesNoPermit) {
  weft::testing::run([] {
    weft::Semaphore sem(0);
    EXPECT_TRUE(cancelled_by_request_stop([&] { sem.acquire(); }));
    sem.release();
    EXPECT_TRUE(sem.acquire(false));
    EXPECT_FALSE(sem.acquire(false)) << "exactly one permit";
  });
}

TEST(StopPrimitives, EventWaitInATimeoutEndsAtTheDeadline) {
  weft::testing::run([] {
    const auto t0 = weft::clock::now();
    weft::Event never;
    weft::Timeout budget(5s);
    EXPECT_THROW(never.wait(), TimeoutError);
    EXPECT_EQ(since(t0), 5s);
    EXPECT_THROW(never.wait(1h), TimeoutError) << "the scope's deadline beats a longer own one";
  });
}

TEST(StopPrimitives, EventWaitIsCancelledByRequestStop) {
  weft::testing::run([] {
    weft::Event never;
    EXPECT_TRUE(cancelled_by_request_stop([&] { never.wait(); }));
    EXPECT_FALSE(never.is_set());
  });
}

TEST(StopPrimitives, QueueGetTakesNoItemAndPutLeavesNone) {
  weft::testing::run([] {
    weft::Queue<int> q;
    EXPECT_TRUE(cancelled_by_request_stop([&] { (void)q.get(); }));
    q.put(7);
    EXPECT_EQ(q.get(), 7) << "the item went to nobody else";
    weft::Queue<int> full(1);
    full.put(1);
    EXPECT_TRUE(cancelled_by_request_stop([&] { full.put(2); }));
    EXPECT_EQ(full.qsize(), 1u);
    EXPECT_EQ(full.get(), 1);
    EXPECT_TRUE(full.empty()) << "the cancelled put inserted nothing";
  });
}

TEST(StopPrimitives, ThreadJoinAndFutureResultInATimeout) {
  weft::testing::run([] {
    const auto t0 = weft::clock::now();
    weft::Thread slow([] { weft::sleep(1h); });
    slow.start();
    weft::ThreadPoolExecutor pool(1);
    weft::Future<int> f = pool.submit([] {
      weft::sleep(1h);
      return 1;
    });
    {
      weft::Timeout budget(2s);
      EXPECT_THROW(slow.join(), TimeoutError);
      EXPECT_THROW(f.result(), TimeoutError);
    }
    EXPECT_EQ(since(t0), 2s);
    EXPECT_TRUE(slow.request_stop());
    slow.join();
    EXPECT_TRUE(f.request_stop());
    EXPECT_THROW(f.result(), CancelledError);
  });
}

}  // namespace
