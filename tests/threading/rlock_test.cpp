// SPDX-License-Identifier: Apache-2.0
// RLock unit tests: ownership, recursion, misuse, blocking, timeouts, TimedLockable.
#include "weft/rlock.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>

#include "threading/prims_support.hpp"
#include "weft/errors.hpp"

using namespace std::chrono_literals;
using weft::testing::expect_blocks_until;

TEST(RLock, AcquireIsReentrantAndReleaseCountsLevels) {
  weft::RLock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_TRUE(lock.acquire(10ms));
  EXPECT_TRUE(lock.is_owned());
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(lock.locked());
    lock.release();
  }
  EXPECT_FALSE(lock.locked());
  EXPECT_FALSE(lock.is_owned());
}

TEST(RLock, ReleaseUnownedThrowsRuntimeError) {
  weft::RLock lock;
  try {
    lock.release();
    FAIL() << "release() of an unowned RLock did not throw";
  } catch (const weft::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot release un-acquired lock");
  }
  lock.acquire();
  lock.release();
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  EXPECT_FALSE(lock.locked());
}

TEST(RLock, ReleaseByAnotherThreadThrowsAndKeepsTheLock) {
  weft::RLock lock;
  lock.acquire();
  bool threw = false;
  std::thread([&] {
    try {
      lock.release();
    } catch (const weft::RuntimeError&) {
      threw = true;
    }
  }).join();
  EXPECT_TRUE(threw);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.is_owned());
  lock.release();
}

TEST(RLock, OtherThreadCannotTryAcquireWhileOwned) {
  weft::RLock lock;
  lock.acquire();
  lock.acquire();
  bool got = true, got_timed = true;
  std::thread([&] {
    got = lock.acquire(false);
    got_timed = lock.acquire(1ms);
  }).join();
  EXPECT_FALSE(got);
  EXPECT_FALSE(got_timed);
  lock.release();
  lock.release();
}

TEST(RLock, AcquireBlocksUntilTheOwnerReleasesEveryLevel) {
  weft::RLock lock;
  std::promise<void> go;
  std::atomic<bool> held{false};
  std::thread owner([&] {
    lock.acquire();
    lock.acquire();
    held = true;
    go.get_future().wait();
    lock.release();
    lock.release();
  });
  while (!held) std::this_thread::yield();
  expect_blocks_until([&] { EXPECT_TRUE(lock.acquire()); },
                      [&] {
                        go.set_value();
                        owner.join();
                      });
  EXPECT_TRUE(lock.is_owned());
  lock.release();
}

TEST(RLock, TimedAcquireWaitsAtLeastTheTimeout) {
  weft::RLock lock;
  std::promise<void> go;
  std::atomic<bool> held{false};
  std::thread owner([&] {
    lock.acquire();
    held = true;
    go.get_future().wait();
    lock.release();
  });
  while (!held) std::this_thread::yield();
  bool got = true;
  const auto took = weft::testing::time_of([&] { got = lock.acquire(30ms); });
  EXPECT_FALSE(got);
  EXPECT_GE(took, 30ms);
  EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now() - 1s));
  go.set_value();
  owner.join();
}

TEST(RLock, ModelsTimedLockable) {
  weft::RLock lock("rlock under test");
  {
    std::scoped_lock hold(lock);
    std::unique_lock again(lock, std::try_to_lock);
    EXPECT_TRUE(again.owns_lock());
  }
  EXPECT_FALSE(lock.locked());
  std::unique_lock<weft::RLock> timed(lock, 5ms);
  EXPECT_TRUE(timed.owns_lock());
  EXPECT_TRUE(lock.try_lock_for(1s));
  EXPECT_TRUE(lock.try_lock_until(std::chrono::system_clock::now() + 1s));
  lock.unlock();
  lock.unlock();
}

TEST(RLock, ReleaseSaveDropsEveryLevelAndAcquireRestoreBringsThemBack) {
  weft::RLock lock;
  lock.acquire();
  lock.acquire();
  lock.acquire();
  const auto saved = lock.release_save();
  EXPECT_EQ(saved, 3u);
  EXPECT_FALSE(lock.locked());
  bool other = false;
  std::thread([&] {
    other = lock.acquire(false);
    if (other) lock.release();
  }).join();
  EXPECT_TRUE(other);
  lock.acquire_restore(saved);
  for (int i = 0; i < 3; ++i) lock.release();
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  EXPECT_THROW(lock.release_save(), weft::RuntimeError);
}

TEST(RLock, MutualExclusionBetweenThreads) {
  weft::RLock lock;
  long counter = 0;
  {
    weft::testing::Bunch bunch(4, [&](std::size_t) {
      for (int i = 0; i < 2000; ++i) {
        std::scoped_lock outer(lock);
        std::scoped_lock inner(lock);
        ++counter;
      }
    });
  }
  EXPECT_EQ(counter, 8000);
}
