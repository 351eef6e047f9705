// SPDX-License-Identifier: Apache-2.0
// Lock unit tests: states, misuse, release by another thread, blocking, timeouts.
#include "weft/lock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <utility>

#include "threading/prims_support.hpp"
#include "weft/errors.hpp"

using namespace std::chrono_literals;
using weft::testing::expect_blocks_until;

TEST(Lock, IsSmall) { EXPECT_LE(sizeof(weft::Lock), 4u); }

TEST(Lock, AcquireAndReleaseFlipLocked) {
  weft::Lock lock("lock under test");
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.acquire(false));
  EXPECT_FALSE(lock.acquire(0s));
  EXPECT_FALSE(lock.acquire(-1s));
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, ReleaseOfAnUnlockedLockIsRuntimeError) {
  weft::Lock lock;
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  lock.acquire();
  lock.release();
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, AnotherThreadMayRelease) {
  weft::Lock lock;
  lock.acquire();
  std::thread([&] { lock.release(); }).join();
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, AcquireBlocksUntilReleasedByAnotherThread) {
  weft::Lock lock;
  lock.acquire();
  const bool got = expect_blocks_until([&] { return lock.acquire(); }, [&] { lock.release(); });
  EXPECT_TRUE(got);
  EXPECT_TRUE(lock.locked());
  lock.release();
}

TEST(Lock, TimedAcquireWaitsAtLeastTheTimeout) {
  weft::Lock lock;
  lock.acquire();
  bool got = true;
  const auto took = weft::testing::time_of([&] { got = lock.acquire(20ms); });
  EXPECT_FALSE(got);
  EXPECT_GE(took, 20ms);
  EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now() - 1s));
  lock.release();
}

TEST(Lock, TimedAcquireSucceedsWhenReleasedInTime) {
  weft::Lock lock;
  lock.acquire();
  const bool got = expect_blocks_until([&] { return lock.acquire(1h); }, [&] { lock.release(); });
  EXPECT_TRUE(got);
  lock.release();
}

TEST(Lock, ModelsTimedLockable) {
  weft::Lock lock;
  {
    std::scoped_lock hold(lock);
    EXPECT_FALSE(lock.try_lock());
  }
  std::unique_lock<weft::Lock> timed(lock, 5ms);
  EXPECT_TRUE(timed.owns_lock());
  timed.unlock();
  EXPECT_TRUE(lock.try_lock_for(1s));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_until(std::chrono::system_clock::now() + 1s));
  lock.unlock();
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, MutualExclusionBetweenThreads) {
  weft::Lock lock;
  long counter = 0;
  {
    weft::testing::Bunch bunch(4, [&](std::size_t) {
      for (int i = 0; i < 5000; ++i) {
        std::scoped_lock hold(lock);
        ++counter;
      }
    });
  }
  EXPECT_EQ(counter, 20000);
}

// Eventual fairness: a thread parked on the lock is handed it while other threads keep
// acquiring and releasing it in a tight loop (each of them could barge in ahead of the
// woken waiter every time). The bargers stop by themselves after a generous number of
// rounds, so a lock that never hands off fails this test instead of hanging it.
TEST(Lock, AParkedWaiterIsHandedTheLockWhileOthersBarge) {
  constexpr long kGenerousRounds = 20'000'000;  // shared by the bargers
  weft::Lock lock;
  std::atomic<bool> waiter_has_had_it{false};
  std::atomic<long> rounds{0}, rounds_when_handed{-1};
  lock.acquire();
  struct ReleaseOnce {
    weft::Lock& lock;
    bool held = true;
    void now() {
      if (std::exchange(held, false)) lock.release();
    }
    ~ReleaseOnce() { now(); }
  } main_hold{lock};
  weft::testing::Bunch waiter(1, [&](std::size_t) {
    lock.acquire();
    rounds_when_handed = rounds.load();
    waiter_has_had_it = true;
    lock.release();
  });
  const bool parked = waiter.wait_all_parked();
  weft::testing::Bunch bargers(2, [&](std::size_t) {
    while (!waiter_has_had_it.load() && rounds.fetch_add(1) < kGenerousRounds) {
      lock.acquire();
      lock.release();
    }
  });
  bargers.wait_started();
  main_hold.now();
  bargers.join();
  waiter.join();
  EXPECT_TRUE(parked) << "the waiter never parked behind the held lock";
  EXPECT_TRUE(waiter_has_had_it.load());
  EXPECT_LT(rounds_when_handed.load(), kGenerousRounds)
      << "the waiter got the lock only after the bargers had stopped";
}
