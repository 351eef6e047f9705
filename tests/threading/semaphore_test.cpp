// SPDX-License-Identifier: Apache-2.0
// Semaphore and BoundedSemaphore unit tests.
#include "weft/semaphore.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <mutex>
#include <thread>

#include "threading/prims_support.hpp"
#include "weft/errors.hpp"

using namespace std::chrono_literals;
using weft::testing::expect_blocks_until;

namespace {
// Takes every permit without blocking and returns how many there were.
int drain(weft::Semaphore& sem) {
  int n = 0;
  while (sem.acquire(false)) ++n;
  return n;
}
}  // namespace

TEST(Semaphore, NegativeInitialValueIsValueError) {
  EXPECT_THROW(weft::Semaphore(-1), weft::ValueError);
  EXPECT_THROW(weft::BoundedSemaphore(-1), weft::ValueError);
  weft::Semaphore zero(0);
  EXPECT_FALSE(zero.acquire(false));
}

TEST(Semaphore, DefaultValueIsOne) {
  weft::Semaphore sem;
  EXPECT_EQ(drain(sem), 1);
}

TEST(Semaphore, ReleaseZeroIsValueError) {
  weft::Semaphore sem(0);
  EXPECT_THROW(sem.release(0), weft::ValueError);
  EXPECT_EQ(drain(sem), 0);
}

TEST(Semaphore, AcquireAndReleaseCountPermits) {
  weft::Semaphore sem(3, "three permits");
  EXPECT_TRUE(sem.acquire());
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_TRUE(sem.acquire(1ms));
  EXPECT_FALSE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(0s));
  sem.release(2);
  sem.release();
  EXPECT_EQ(drain(sem), 3);
}

TEST(Semaphore, AcquireBlocksUntilRelease) {
  weft::Semaphore sem(0);
  const bool got = expect_blocks_until([&] { return sem.acquire(); }, [&] { sem.release(); });
  EXPECT_TRUE(got);
  EXPECT_EQ(drain(sem), 0);
}

TEST(Semaphore, TimedAcquireFailsAfterTheTimeout) {
  weft::Semaphore sem(0);
  bool got = true;
  const auto took = weft::testing::time_of([&] { got = sem.acquire(20ms); });
  EXPECT_FALSE(got);
  EXPECT_GE(took, 20ms);
  EXPECT_FALSE(sem.try_lock_until(std::chrono::steady_clock::now() - 1s));
}

TEST(Semaphore, ReleaseNWakesAtMostN) {
  weft::Semaphore sem(0);
  weft::testing::Bunch bunch(3, [&](std::size_t) { EXPECT_TRUE(sem.acquire()); });
  // EXPECT, not ASSERT: an early return would leave ~Bunch joining blocked threads.
  EXPECT_TRUE(bunch.wait_all_parked());
  sem.release(2);
  EXPECT_TRUE(bunch.wait_done(2));
  // No permit is left, so the third thread stays parked until the next release.
  EXPECT_TRUE(bunch.wait_parked(1));
  EXPECT_EQ(bunch.done(), 2u);
  sem.release();
  bunch.join();
  EXPECT_EQ(drain(sem), 0);
}

TEST(Semaphore, ModelsTimedLockable) {
  weft::Semaphore sem(1);
  {
    std::scoped_lock hold(sem);
    EXPECT_FALSE(sem.try_lock());
  }
  std::unique_lock<weft::Semaphore> timed(sem, 5ms);
  EXPECT_TRUE(timed.owns_lock());
  timed.unlock();
  EXPECT_TRUE(sem.try_lock_for(1s));
  sem.unlock();
  EXPECT_TRUE(sem.try_lock_until(std::chrono::system_clock::now() + 1s));
  sem.unlock();
  EXPECT_EQ(drain(sem), 1);
}

TEST(Semaphore, ReleaseMayComeFromAnyThread) {
  weft::Semaphore sem(0);
  std::thread([&] { sem.release(); }).join();
  EXPECT_TRUE(sem.acquire(false));
}

TEST(BoundedSemaphore, ReleaseAboveTheInitialValueIsValueErrorAndChangesNothing) {
  weft::BoundedSemaphore sem(2);
  try {
    sem.release();
    FAIL() << "release above the initial value did not throw";
  } catch (const weft::ValueError& e) {
    EXPECT_STREQ(e.what(), "Semaphore released too many times");
  }
  ASSERT_TRUE(sem.acquire(false));
  EXPECT_THROW(sem.release(2), weft::ValueError);
  sem.release();
  EXPECT_EQ(drain(sem), 2);
}

TEST(BoundedSemaphore, IsASemaphore) {
  weft::BoundedSemaphore bounded(1);
  weft::Semaphore& plain = bounded;
  EXPECT_TRUE(plain.acquire(false));
  plain.release();
  EXPECT_THROW(plain.release(), weft::ValueError);
}

TEST(Semaphore, PermitsAreExactUnderContention) {
  weft::Semaphore sem(2);
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  {
    weft::testing::Bunch bunch(4, [&](std::size_t) {
      for (int i = 0; i < 500; ++i) {
        std::scoped_lock hold(sem);
        const int now = inside.fetch_add(1) + 1;
        int seen = max_inside.load();
        while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
        }
        inside.fetch_sub(1);
      }
    });
  }
  EXPECT_LE(max_inside.load(), 2);
  EXPECT_EQ(drain(sem), 2);
}

TEST(Semaphore, ReleaseThatWouldOverflowIsValueErrorAndChangesNothing) {
  weft::Semaphore sem(PTRDIFF_MAX);
  EXPECT_THROW(sem.release(), weft::ValueError);
  EXPECT_THROW(sem.release(SIZE_MAX), weft::ValueError);
  EXPECT_TRUE(sem.acquire(false));
  sem.release();  // back to the maximum: fine
  EXPECT_THROW(sem.release(), weft::ValueError);
}
