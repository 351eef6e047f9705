// SPDX-License-Identifier: Apache-2.0
// Conformance: the lock behaviours that CPython's Lib/test/lock_tests.py checks
// (BaseLockTests, LockTests, RLockTests), restated for weft in C++.
//
// Source of the behaviours: https://github.com/python/cpython/blob/main/Lib/test/lock_tests.py
// (Python Software Foundation License). The tests are written anew; no code is copied.
// Python checks that a call blocked by sleeping; here expect_blocks_until proves it by
// seeing the caller parked. Python-only cases (repr, weakref, fork, keyword errors such
// as acquire(False, timeout)) have no C++ counterpart and are left out.
//
// As CPython runs its RLock tests over Condition too (ConditionAsRLockTests), the typed
// suites run over Lock, RLock and Condition (whose default lock is an RLock).
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "threading/prims_support.hpp"
#include "weft/condition.hpp"
#include "weft/errors.hpp"
#include "weft/lock.hpp"
#include "weft/rlock.hpp"

using namespace std::chrono_literals;
using weft::testing::Bunch;
using weft::testing::expect_blocks_until;

namespace {

// Runs fn in a new thread and waits for it (CPython's lock_tests run many checks "in
// another thread" this way).
template <class F>
void in_other_thread(F&& fn) {
  std::thread(std::forward<F>(fn)).join();
}

}  // namespace

// ---- BaseLockTests: every lock type ----------------------------------------------------

template <class L>
class BaseLockTests : public ::testing::Test {};
using AllLocks = ::testing::Types<weft::Lock, weft::RLock, weft::Condition>;
TYPED_TEST_SUITE(BaseLockTests, AllLocks);

TYPED_TEST(BaseLockTests, Constructor) {
  TypeParam lock;
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TYPED_TEST(BaseLockTests, AcquireThenDestroy) {
  auto lock = std::make_unique<TypeParam>();
  lock->acquire();
  lock->release();
  lock.reset();
  SUCCEED() << "a released lock may be destroyed";
}

TYPED_TEST(BaseLockTests, AcquireRelease) {
  TypeParam lock;
  EXPECT_TRUE(lock.acquire());
  lock.release();
  EXPECT_TRUE(lock.acquire());
  lock.release();
}

TYPED_TEST(BaseLockTests, TryAcquire) {
  TypeParam lock;
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TYPED_TEST(BaseLockTests, TryAcquireContended) {
  TypeParam lock;
  lock.acquire();
  bool got = true;
  in_other_thread([&] { got = lock.acquire(false); });
  EXPECT_FALSE(got);
  lock.release();
}

TYPED_TEST(BaseLockTests, AcquireContended) {
  TypeParam lock;
  lock.acquire();
  constexpr std::size_t kThreads = 5;
  std::atomic<int> finished{0};
  Bunch bunch(kThreads, [&](std::size_t) {
    lock.acquire();
    lock.release();
    finished.fetch_add(1);
  });
  EXPECT_TRUE(bunch.wait_all_parked());
  EXPECT_EQ(finished.load(), 0);  // all blocked while the lock is held
  lock.release();
  bunch.join();
  EXPECT_EQ(finished.load(), static_cast<int>(kThreads));
}

TYPED_TEST(BaseLockTests, WithStatement) {
  TypeParam lock;
  {
    std::scoped_lock hold(lock);
  }
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
  // An exception leaving the block releases the lock too.
  try {
    std::scoped_lock hold(lock);
    throw std::runtime_error("leave the block");
  } catch (const std::runtime_error&) {
  }
  bool got = false;
  in_other_thread([&] {
    got = lock.acquire(false);
    if (got) lock.release();
  });
  EXPECT_TRUE(got);
}

TYPED_TEST(BaseLockTests, Timeout) {
  TypeParam lock;
  // Python: acquire(timeout=-1) blocks forever, other negatives are a ValueError; weft
  // treats every negative timeout as an immediate try (docs/python-mapping.md, first table).
  EXPECT_TRUE(lock.acquire(-100s));
  lock.release();
  // A huge timeout is fine (Python: TIMEOUT_MAX; weft saturates any duration).
  EXPECT_TRUE(lock.acquire(std::chrono::hours::max()));
  lock.release();
  EXPECT_TRUE(lock.acquire(std::chrono::seconds(1'000'000'000)));
  std::chrono::steady_clock::duration took{};
  bool got1 = true, got2 = true;
  in_other_thread([&] {
    got1 = lock.acquire(0s);
    took = weft::testing::time_of([&] { got2 = lock.acquire(20ms); });
  });
  EXPECT_FALSE(got1);
  EXPECT_FALSE(got2);
  EXPECT_GE(took, 20ms);
  lock.release();
}

// ---- LockTests: Lock only ------------------------------------------------------------

TEST(LockTests, LockIsNotReentrantAndAnotherThreadMayRelease) {
  weft::Lock lock;
  std::atomic<int> phase{0};
  std::thread t([&] {
    lock.acquire();
    phase = 1;
    lock.acquire();  // blocks until some other thread releases
    phase = 2;
  });
  while (phase.load() != 1) std::this_thread::yield();
  EXPECT_TRUE(lock.locked());
  lock.release();  // a thread that did not acquire releases it
  t.join();
  EXPECT_EQ(phase.load(), 2);
  lock.release();
}

TEST(LockTests, ReleaseInADifferentThread) {
  weft::Lock lock;
  in_other_thread([&] { lock.acquire(); });
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(LockTests, StateAfterTimeout) {  // CPython issue 11618
  weft::Lock lock;
  lock.acquire();
  in_other_thread([&] { EXPECT_FALSE(lock.acquire(1ms)); });
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(LockTests, ReleaseUnlockedIsRuntimeError) {
  weft::Lock lock;
  EXPECT_THROW(lock.release(), weft::RuntimeError);
}

// ---- RLockTests: RLock, and Condition as an RLock -----------------------------------

template <class L>
class RLockTests : public ::testing::Test {};
using ReentrantLocks = ::testing::Types<weft::RLock, weft::Condition>;
TYPED_TEST_SUITE(RLockTests, ReentrantLocks);

TYPED_TEST(RLockTests, Reacquire) {
  TypeParam lock;
  lock.acquire();
  lock.acquire();
  lock.release();
  lock.acquire();
  lock.release();
  lock.release();
  EXPECT_THROW(lock.release(), weft::RuntimeError);
}

TYPED_TEST(RLockTests, ReleaseUnacquired) {
  TypeParam lock;
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  lock.acquire();
  lock.acquire();
  lock.release();
  lock.acquire();
  lock.release();
  lock.release();
  EXPECT_THROW(lock.release(), weft::RuntimeError);
}

TYPED_TEST(RLockTests, ReleaseInADifferentThreadIsRuntimeError) {
  TypeParam lock;
  std::promise<void> done;
  std::atomic<bool> held{false};
  std::thread owner([&] {
    lock.acquire();
    held = true;
    done.get_future().wait();
    lock.release();
  });
  while (!held.load()) std::this_thread::yield();
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  EXPECT_FALSE(lock.acquire(false));  // still held by the thread that acquired it
  done.set_value();
  owner.join();
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TYPED_TEST(RLockTests, OtherThreadBlocksUntilEveryLevelIsReleased) {
  TypeParam lock;
  lock.acquire();
  lock.acquire();
  std::atomic<bool> got{false};
  Bunch bunch(1, [&](std::size_t) {
    lock.acquire();
    got = true;
    lock.release();
  });
  EXPECT_TRUE(bunch.wait_all_parked());
  lock.release();
  EXPECT_FALSE(got.load());  // one level is still held
  EXPECT_TRUE(bunch.wait_all_parked());
  lock.release();
  bunch.join();
  EXPECT_TRUE(got.load());
}

TEST(RLockTests, ReleaseSaveUnacquiredIsRuntimeError) {
  weft::RLock lock;
  EXPECT_THROW(lock.release_save(), weft::RuntimeError);
  lock.acquire();
  lock.acquire();
  lock.release();
  lock.acquire();
  lock.release();
  lock.release();
  EXPECT_THROW(lock.release_save(), weft::RuntimeError);
}

TEST(RLockTests, IsOwned) {
  weft::RLock lock;
  EXPECT_FALSE(lock.is_owned());
  lock.acquire();
  EXPECT_TRUE(lock.is_owned());
  lock.acquire();
  EXPECT_TRUE(lock.is_owned());
  bool owned_elsewhere = true;
  in_other_thread([&] { owned_elsewhere = lock.is_owned(); });
  EXPECT_FALSE(owned_elsewhere);
  lock.release();
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  EXPECT_FALSE(lock.is_owned());
}
