// SPDX-License-Identifier: Apache-2.0
// Conformance: the Event, Condition, Semaphore, BoundedSemaphore and Barrier behaviours
// that CPython's Lib/test/lock_tests.py checks, restated for weft in C++.
//
// Source of the behaviours: https://github.com/python/cpython/blob/main/Lib/test/lock_tests.py
// (Python Software Foundation License). The tests are written anew; no code is copied.
// Where Python sleeps to let threads block, these tests wait until the threads are
// parked in weft's parking lot.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/scope_exit.hpp"
#include "threading/prims_support.hpp"
#include "weft/barrier.hpp"
#include "weft/condition.hpp"
#include "weft/errors.hpp"
#include "weft/event.hpp"
#include "weft/lock.hpp"
#include "weft/rlock.hpp"
#include "weft/semaphore.hpp"

using namespace std::chrono_literals;
using weft::testing::Bunch;

// ---- EventTests ----------------------------------------------------------------------

TEST(EventTests, IsSet) {
  weft::Event evt;
  EXPECT_FALSE(evt.is_set());
  evt.set();
  EXPECT_TRUE(evt.is_set());
  evt.set();
  EXPECT_TRUE(evt.is_set());
  evt.clear();
  EXPECT_FALSE(evt.is_set());
  evt.clear();
  EXPECT_FALSE(evt.is_set());
}

namespace {
void check_notify(weft::Event& evt) {
  // All waiters are woken by set() and see True, whether or not they used a timeout.
  constexpr std::size_t kThreads = 5;
  std::mutex mu;
  std::vector<bool> results;
  Bunch bunch(kThreads, [&](std::size_t i) {
    const bool r = i % 2 == 0 ? evt.wait() : evt.wait(1h);
    std::scoped_lock hold(mu);
    results.push_back(r);
  });
  weft::testing::ScopeExit release([&] { evt.set(); });  // before ~Bunch joins
  EXPECT_TRUE(bunch.wait_all_parked());
  EXPECT_TRUE(results.empty());
  evt.set();
  bunch.join();
  EXPECT_EQ(results, std::vector<bool>(kThreads, true));
}
}  // namespace

TEST(EventTests, Notify) {
  weft::Event evt;
  check_notify(evt);
  // Another round after clear().
  evt.set();
  evt.clear();
  check_notify(evt);
}

TEST(EventTests, Timeout) {
  weft::Event evt;
  std::mutex mu;
  std::vector<bool> r1, r2;
  std::vector<std::chrono::steady_clock::duration> times;
  {
    Bunch bunch(5, [&](std::size_t) {
      const bool a = evt.wait(0s);
      bool b = true;
      const auto took = weft::testing::time_of([&] { b = evt.wait(20ms); });
      std::scoped_lock hold(mu);
      r1.push_back(a);
      r2.push_back(b);
      times.push_back(took);
    });
  }
  EXPECT_EQ(r1, std::vector<bool>(5, false));
  EXPECT_EQ(r2, std::vector<bool>(5, false));
  for (auto t : times) EXPECT_GE(t, 20ms);
  // With the flag set, a timed wait returns true at once.
  evt.set();
  Bunch bunch(5, [&](std::size_t) { EXPECT_TRUE(evt.wait(1h)); });
}

TEST(EventTests, SetAndClear) {  // CPython issue 13502
  weft::Event evt;
  std::atomic<int> woke_true{0};
  Bunch bunch(5, [&](std::size_t) {
    if (evt.wait(1h)) woke_true.fetch_add(1);
  });
  weft::testing::ScopeExit release([&] { evt.set(); });  // before ~Bunch joins
  EXPECT_TRUE(bunch.wait_all_parked());
  evt.set();
  evt.clear();
  bunch.join();
  EXPECT_EQ(woke_true.load(), 5);
}

// ---- ConditionTests ------------------------------------------------------------------

TEST(ConditionTests, Acquire) {
  weft::Condition cond;
  // Re-entrant by default, like Python's Condition() over an RLock.
  cond.acquire();
  cond.acquire();
  cond.release();
  cond.release();
  weft::Lock lock;
  weft::Condition over_lock(lock);
  over_lock.acquire();
  EXPECT_FALSE(over_lock.acquire(false));
  over_lock.release();
}

TEST(ConditionTests, UnacquiredWait) {
  weft::Condition cond;
  EXPECT_THROW(cond.wait(), weft::RuntimeError);
}

TEST(ConditionTests, UnacquiredNotify) {
  weft::Condition cond;
  EXPECT_THROW(cond.notify(), weft::RuntimeError);
}

namespace {
// CPython's _check_notify: waiters record a phase number; notify(1), notify(3) and
// notify_all() release exactly that many.
void check_notify(weft::Condition& cond) {
  constexpr std::size_t kThreads = 5;
  std::mutex mu;
  std::vector<int> results1, results2;
  int phase = 0;
  Bunch bunch(kThreads, [&](std::size_t) {
    cond.acquire();
    cond.wait();
    const int seen = phase;
    cond.release();
    {
      std::scoped_lock hold(mu);
      results1.push_back(seen);
    }
    cond.acquire();
    cond.wait();
    const int seen2 = phase;
    cond.release();
    std::scoped_lock hold(mu);
    results2.push_back(seen2);
  });
  // Before ~Bunch joins, also after a failure: notify until every thread has returned.
  weft::testing::ScopeExit release([&] {
    while (bunch.done() < kThreads) {
      {
        std::scoped_lock hold(cond);
        cond.notify_all();
      }
      std::this_thread::yield();
    }
  });
  auto count1 = [&] {
    std::scoped_lock hold(mu);
    return results1.size();
  };
  auto count = [&] {
    std::scoped_lock hold(mu);
    return results1.size() + results2.size();
  };
  // Each notify below must find its waiters in cond.wait(): a thread still parked on the
  // lock on its way in (where wait_all_parked() would count it) would miss it.
  EXPECT_TRUE(bunch.wait_all_parked_in(&cond));
  EXPECT_EQ(count1(), 0u);

  cond.acquire();
  cond.notify(3);
  phase = 1;
  cond.release();
  EXPECT_TRUE(weft::testing::poll_until([&] { return count1() >= 3; }));
  // The two not notified are still waiting; the three notified wait again.
  EXPECT_TRUE(bunch.wait_all_parked_in(&cond));
  {
    std::scoped_lock hold(mu);
    EXPECT_EQ(results1, std::vector<int>(3, 1));
    EXPECT_TRUE(results2.empty());
  }

  cond.acquire();
  cond.notify(5);  // the first waiters queued are woken first: the two left from round 1
  phase = 2;
  cond.release();
  EXPECT_TRUE(weft::testing::poll_until([&] { return count() >= 8; }));
  EXPECT_TRUE(bunch.wait_parked_in(&cond, 2));
  {
    std::scoped_lock hold(mu);
    EXPECT_EQ(results1, (std::vector<int>{1, 1, 1, 2, 2}));
    EXPECT_EQ(results2, (std::vector<int>{2, 2, 2}));
  }

  cond.acquire();
  cond.notify_all();
  phase = 3;
  cond.release();
  bunch.join();
  std::scoped_lock hold(mu);
  EXPECT_EQ(results2, (std::vector<int>{2, 2, 2, 3, 3}));
}
}  // namespace

TEST(ConditionTests, NotifyWithRLock) {
  weft::Condition cond;
  check_notify(cond);
  check_notify(cond);  // again, to check that nothing was left over
}

TEST(ConditionTests, NotifyWithLock) {
  weft::Lock lock;
  weft::Condition cond(lock);
  check_notify(cond);
  check_notify(cond);
}

TEST(ConditionTests, Timeout) {
  weft::Condition cond;
  std::mutex mu;
  std::vector<bool> results;
  std::vector<std::chrono::steady_clock::duration> times;
  {
    Bunch bunch(5, [&](std::size_t) {
      cond.acquire();
      bool r = true;
      const auto took = weft::testing::time_of([&] { r = cond.wait(20ms); });
      cond.release();
      std::scoped_lock hold(mu);
      results.push_back(r);
      times.push_back(took);
    });
  }
  EXPECT_EQ(results, std::vector<bool>(5, false));
  for (auto t : times) EXPECT_GE(t, 20ms);
}

TEST(ConditionTests, WaitFor) {
  weft::Condition cond;
  int state = 0;
  Bunch bunch(1, [&](std::size_t) {
    std::scoped_lock hold(cond);
    EXPECT_TRUE(cond.wait_for([&] { return state == 4; }));
    EXPECT_EQ(state, 4);
  });
  weft::testing::ScopeExit release([&] {  // before ~Bunch joins, also after a failure
    std::scoped_lock hold(cond);
    state = 4;
    cond.notify_all();
  });
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(bunch.wait_all_parked());
    std::scoped_lock hold(cond);
    ++state;
    cond.notify();
  }
  bunch.join();
}

TEST(ConditionTests, WaitForTimeout) {
  weft::Condition cond;
  int state = 0;
  bool result = true;
  std::chrono::steady_clock::duration took{};
  Bunch bunch(1, [&](std::size_t) {
    std::scoped_lock hold(cond);
    took = weft::testing::time_of(
        [&] { result = cond.wait_for([&] { return state == 4; }, 30ms); });
  });
  for (int i = 0; i < 3; ++i) {
    // Parked again, or already timed out (30 ms pass quickly on a loaded machine): then
    // there is nothing left to notify.
    EXPECT_TRUE(weft::testing::poll_until(
        [&] { return bunch.done() == 1 || bunch.parked_count() == 1; }));
    if (bunch.done() == 1) break;
    std::scoped_lock hold(cond);
    ++state;
    cond.notify();
  }
  bunch.join();
  EXPECT_FALSE(result);
  EXPECT_GE(took, 30ms);
}

// ---- Semaphore tests (BaseSemaphoreTests over both types) ------------------------------

template <class S>
class SemaphoreTests : public ::testing::Test {};
using Semaphores = ::testing::Types<weft::Semaphore, weft::BoundedSemaphore>;
TYPED_TEST_SUITE(SemaphoreTests, Semaphores);

TYPED_TEST(SemaphoreTests, Constructor) {
  EXPECT_THROW(TypeParam(-1), weft::ValueError);
  EXPECT_THROW(TypeParam(-1000000), weft::ValueError);
  TypeParam(1);
  TypeParam(0);
  SUCCEED();
}

TYPED_TEST(SemaphoreTests, Acquire) {
  TypeParam sem(1);
  sem.acquire();
  sem.release();
  TypeParam two(2);
  two.acquire();
  two.acquire();
  two.release();
  two.release();
  EXPECT_TRUE(two.acquire(false));
  EXPECT_TRUE(two.acquire(false));
  EXPECT_FALSE(two.acquire(false));
}

TYPED_TEST(SemaphoreTests, AcquireContended) {
  TypeParam sem(7);
  sem.acquire();
  std::mutex mu;
  std::vector<int> results1, results2;
  int phase = 0;
  Bunch bunch(10, [&](std::size_t) {
    sem.acquire();
    {
      std::scoped_lock hold(mu);
      results1.push_back(phase);
    }
    sem.acquire();
    std::scoped_lock hold(mu);
    results2.push_back(phase);
  });
  auto sizes = [&] {
    std::scoped_lock hold(mu);
    return results1.size() + results2.size();
  };
  auto unfinished = [&] {
    std::scoped_lock hold(mu);
    return 10 - results2.size();
  };
  while (sizes() < 6) std::this_thread::yield();
  EXPECT_TRUE(bunch.wait_parked(unfinished()));
  EXPECT_EQ(sizes(), 6u);
  {
    std::scoped_lock hold(mu);
    phase = 1;
  }
  for (int i = 0; i < 7; ++i) sem.release();
  while (sizes() < 13) std::this_thread::yield();
  // Every thread that has not taken its second permit is blocked again.
  EXPECT_TRUE(bunch.wait_parked(unfinished()));
  {
    std::scoped_lock hold(mu);
    std::vector<int> all = results1;
    all.insert(all.end(), results2.begin(), results2.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (std::vector<int>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1}));
    phase = 2;
  }
  // Release the rest so every thread finishes.
  if constexpr (std::is_same_v<TypeParam, weft::Semaphore>) {
    sem.release(7);
  } else {
    // A BoundedSemaphore(7) cannot go above 7: hand out permits as they are taken.
    for (int i = 0; i < 7; ++i) sem.release();
  }
  bunch.join();
  EXPECT_FALSE(sem.acquire(false));
}

TYPED_TEST(SemaphoreTests, MultiRelease) {
  TypeParam sem(7);
  sem.acquire();
  std::mutex mu;
  int acquired = 0;
  Bunch bunch(10, [&](std::size_t) {
    sem.acquire();
    std::scoped_lock hold(mu);
    ++acquired;
  });
  EXPECT_TRUE(bunch.wait_parked(4));
  sem.release(4);  // 4 of the 10 wait; release(4) lets exactly them through
  bunch.join();
  EXPECT_EQ(acquired, 10);
  EXPECT_FALSE(sem.acquire(false));
}

TYPED_TEST(SemaphoreTests, TryAcquire) {
  TypeParam sem(2);
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
  sem.release();
  EXPECT_TRUE(sem.acquire(false));
}

TYPED_TEST(SemaphoreTests, TryAcquireContended) {
  TypeParam sem(4);
  sem.acquire();
  std::mutex mu;
  std::vector<bool> results;
  {
    Bunch bunch(5, [&](std::size_t) {
      const bool a = sem.acquire(false);
      const bool b = sem.acquire(false);
      std::scoped_lock hold(mu);
      results.push_back(a);
      results.push_back(b);
    });
  }
  EXPECT_EQ(std::count(results.begin(), results.end(), true), 3);
  EXPECT_EQ(std::count(results.begin(), results.end(), false), 7);
}

TYPED_TEST(SemaphoreTests, AcquireTimeout) {
  TypeParam sem(2);
  EXPECT_TRUE(sem.acquire(5ms));
  EXPECT_TRUE(sem.acquire(5ms));
  bool got = true;
  const auto took = weft::testing::time_of([&] { got = sem.acquire(5ms); });
  EXPECT_FALSE(got);
  EXPECT_GE(took, 5ms);
  sem.release();
  EXPECT_TRUE(sem.acquire(5ms));
  EXPECT_FALSE(sem.acquire(0s));
  EXPECT_FALSE(sem.acquire(-1s));
}

TYPED_TEST(SemaphoreTests, DefaultValue) {
  TypeParam sem;
  sem.acquire();
  std::atomic<bool> got{false};
  Bunch bunch(1, [&](std::size_t) {
    sem.acquire();
    got = true;
    sem.release();
  });
  EXPECT_TRUE(bunch.wait_all_parked());
  EXPECT_FALSE(got.load());
  sem.release();
  bunch.join();
  EXPECT_TRUE(got.load());
}

TYPED_TEST(SemaphoreTests, With) {
  TypeParam sem(2);
  {
    std::scoped_lock a(sem);
    EXPECT_TRUE(sem.acquire(false));
    sem.release();
    try {
      std::scoped_lock b(sem);
      EXPECT_FALSE(sem.acquire(false));
      throw std::runtime_error("leave the block");
    } catch (const std::runtime_error&) {
    }
    EXPECT_TRUE(sem.acquire(false));
    sem.release();
  }
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_TRUE(sem.acquire(false));
}

TEST(SemaphoreTests, ReleaseUnacquiredRaisesTheValue) {
  weft::Semaphore sem;
  sem.release();
  sem.acquire();
  sem.acquire();
  EXPECT_FALSE(sem.acquire(false));
}

TEST(BoundedSemaphoreTests, ReleaseUnacquiredIsValueError) {
  weft::BoundedSemaphore sem;
  EXPECT_THROW(sem.release(), weft::ValueError);
  sem.acquire();
  sem.release();
  EXPECT_THROW(sem.release(), weft::ValueError);
}

TEST(BoundedSemaphoreTests, ReleaseZeroIsValueError) {
  weft::BoundedSemaphore sem;
  EXPECT_THROW(sem.release(0), weft::ValueError);
}

// ---- BarrierTests --------------------------------------------------------------------

namespace {
constexpr std::size_t kParties = 5;
}

TEST(BarrierTests, Constructor) {
  EXPECT_THROW(weft::Barrier(0), weft::ValueError);
  weft::Barrier b(kParties);
  EXPECT_EQ(b.parties(), kParties);
  EXPECT_EQ(b.n_waiting(), 0u);
  EXPECT_FALSE(b.broken());
}

namespace {
// Each thread passes the barrier `passes` times; between passes every thread checks
// that all others reached the same pass.
void multipass(weft::Barrier& barrier, std::size_t passes) {
  std::mutex mu;
  std::vector<std::size_t> results1, results2;
  Bunch bunch(kParties, [&](std::size_t) {
    for (std::size_t pass = 0; pass < passes; ++pass) {
      {
        std::scoped_lock hold(mu);
        results1.push_back(pass);
      }
      barrier.wait();
      {
        std::scoped_lock hold(mu);
        EXPECT_EQ(results1.size(), kParties * (pass + 1));
        EXPECT_EQ(results2.size(), kParties * pass);
      }
      barrier.wait();
      {
        std::scoped_lock hold(mu);
        results2.push_back(pass);
      }
      barrier.wait();
    }
  });
  bunch.join();
  EXPECT_EQ(results1.size(), kParties * passes);
  EXPECT_EQ(results2.size(), kParties * passes);
}
}  // namespace

TEST(BarrierTests, Barrier) {
  weft::Barrier barrier(kParties);
  multipass(barrier, 1);
}

TEST(BarrierTests, Barrier10) {
  weft::Barrier barrier(kParties);
  multipass(barrier, 10);
}

TEST(BarrierTests, WaitReturn) {
  weft::Barrier barrier(kParties);
  std::mutex mu;
  std::multiset<std::size_t> indices;
  {
    Bunch bunch(kParties, [&](std::size_t) {
      const std::size_t r = barrier.wait();
      std::scoped_lock hold(mu);
      indices.insert(r);
    });
  }
  EXPECT_EQ(indices, (std::multiset<std::size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(indices.count(0), 1u);
}

TEST(BarrierTests, Action) {
  std::atomic<int> actions{0};
  weft::Barrier barrier(kParties, [&] { actions.fetch_add(1); });
  std::atomic<int> saw{0};
  {
    Bunch bunch(kParties, [&](std::size_t) {
      barrier.wait();
      if (actions.load() == 1) saw.fetch_add(1);
    });
  }
  EXPECT_EQ(saw.load(), static_cast<int>(kParties));
}

TEST(BarrierTests, Abort) {
  // One thread fails and aborts; the others get BrokenBarrierError in the next wait.
  weft::Barrier barrier(kParties);
  std::atomic<int> broken{0}, passed_first{0};
  {
    Bunch bunch(kParties, [&](std::size_t i) {
      try {
        barrier.wait();
        passed_first.fetch_add(1);
        if (i == kParties / 2) throw std::runtime_error("worker failed");
        barrier.wait();
        ADD_FAILURE() << "second wait should have broken";
      } catch (const weft::BrokenBarrierError&) {
        broken.fetch_add(1);
      } catch (const std::runtime_error&) {
        barrier.abort();
      }
    });
  }
  EXPECT_EQ(passed_first.load(), static_cast<int>(kParties));
  EXPECT_EQ(broken.load(), static_cast<int>(kParties) - 1);
  EXPECT_TRUE(barrier.broken());
}

TEST(BarrierTests, Reset) {
  // One thread resets the barrier while the others wait; they get BrokenBarrierError,
  // then everyone uses the barrier again.
  weft::Barrier barrier(kParties);
  weft::Barrier regroup(kParties);
  std::atomic<int> broken{0}, passed_again{0};
  {
    Bunch bunch(kParties, [&](std::size_t i) {
      barrier.wait();
      if (i == kParties / 2) {
        // Wait until the other n-1 are blocked, then reset.
        while (barrier.n_waiting() < kParties - 1) std::this_thread::yield();
        barrier.reset();
      } else {
        try {
          barrier.wait();
        } catch (const weft::BrokenBarrierError&) {
          broken.fetch_add(1);
        }
      }
      regroup.wait();
      barrier.wait();
      passed_again.fetch_add(1);
    });
  }
  EXPECT_EQ(broken.load(), static_cast<int>(kParties) - 1);
  EXPECT_EQ(passed_again.load(), static_cast<int>(kParties));
  EXPECT_FALSE(barrier.broken());
}

TEST(BarrierTests, AbortAndReset) {
  weft::Barrier barrier(kParties);
  weft::Barrier regroup(kParties);
  std::atomic<int> broken{0}, passed_again{0};
  {
    Bunch bunch(kParties, [&](std::size_t i) {
      try {
        barrier.wait();
        if (i == kParties / 2) throw std::runtime_error("worker failed");
        barrier.wait();
      } catch (const weft::BrokenBarrierError&) {
        broken.fetch_add(1);
      } catch (const std::runtime_error&) {
        barrier.abort();
      }
      // The last to arrive resets the broken barrier before anyone uses it again.
      if (regroup.wait() == kParties - 1) barrier.reset();
      regroup.wait();
      barrier.wait();
      passed_again.fetch_add(1);
    });
  }
  EXPECT_EQ(broken.load(), static_cast<int>(kParties) - 1);
  EXPECT_EQ(passed_again.load(), static_cast<int>(kParties));
}

TEST(BarrierTests, Timeout) {
  // One thread times out; the barrier breaks and everyone gets BrokenBarrierError.
  weft::Barrier barrier(kParties);
  std::atomic<int> broken{0};
  {
    Bunch bunch(kParties - 1, [&](std::size_t i) {
      try {
        if (i == 0) {
          barrier.wait(20ms);
        } else {
          barrier.wait();
        }
      } catch (const weft::BrokenBarrierError&) {
        broken.fetch_add(1);
      }
    });
  }
  EXPECT_EQ(broken.load(), static_cast<int>(kParties) - 1);
  EXPECT_TRUE(barrier.broken());
}

TEST(BarrierTests, DefaultTimeout) {
  weft::Barrier barrier(kParties, {}, 20ms);
  std::atomic<int> broken{0};
  {
    Bunch bunch(kParties - 1, [&](std::size_t) {
      try {
        barrier.wait();
      } catch (const weft::BrokenBarrierError&) {
        broken.fetch_add(1);
      }
    });
  }
  EXPECT_EQ(broken.load(), static_cast<int>(kParties) - 1);
}

TEST(BarrierTests, SingleThread) {
  weft::Barrier barrier(1);
  EXPECT_EQ(barrier.wait(), 0u);
  EXPECT_EQ(barrier.wait(), 0u);
}
