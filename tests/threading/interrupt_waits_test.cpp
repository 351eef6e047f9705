// SPDX-License-Identifier: Apache-2.0
// Every other blocking call cut short by an interrupt (#13): Event, Semaphore,
// BoundedSemaphore, Thread::join, Timer, the queues' get/put/join/put_many, select, and
// Future result/exception, wait, as_completed. The call throws what the interrupt means
// and the object is as if it had not been made (a cancelled get takes nothing, a
// cancelled put inserts nothing); a wake-up racing the interrupt of the waiter it was
// meant for is never lost (exact accounting over many rounds); a passed scope deadline
// throws TimeoutError.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <vector>

#include "threading/interrupt_support.hpp"
#include "weft/errors.hpp"
#include "weft/event.hpp"
#include "weft/futures.hpp"
#include "weft/queue.hpp"
#include "weft/select.hpp"
#include "weft/semaphore.hpp"
#include "weft/thread.hpp"
#include "weft/timer.hpp"

namespace {

using namespace std::chrono_literals;
using weft::testing::BlockedCall;
using weft::testing::Outcome;
using weft::testing::race;
using weft::testing::ScopeDeadline;

constexpr int kRaceRounds = 400;

// Two waiters block in wait(); wake() (enough for one waiter) races an interrupt of the
// first. The first either took the wake-up or throws; if it throws, the wake-up reached
// the second, otherwise a second wake() does. check() then sees the object as expected.
void wake_one_races_interrupt(const std::function<void()>& wait, const std::function<void()>& wake,
                              const std::function<void()>& check) {
  for (int round = 0; round < kRaceRounds; ++round) {
    std::atomic<int> got{0};
    auto waiter = [&] {
      wait();
      ++got;
    };
    BlockedCall first(waiter, wake);
    ASSERT_TRUE(first.wait_parked());
    BlockedCall second(waiter, wake);
    ASSERT_TRUE(second.wait_parked());
    race(wake, [&] { first.interrupt(); });
    const Outcome a = first.join();
    ASSERT_FALSE(first.rescued()) << "round " << round;
    ASSERT_TRUE(a == Outcome::kReturned || a == Outcome::kCancelled) << to_string(a);
    if (a == Outcome::kReturned) {
      ASSERT_TRUE(second.wait_parked()) << "round " << round;
      wake();
    }
    ASSERT_EQ(second.join(), Outcome::kReturned) << "round " << round;
    ASSERT_FALSE(second.rescued()) << "lost wake-up in round " << round;
    ASSERT_EQ(got.load(), a == Outcome::kReturned ? 2 : 1) << "round " << round;
    check();
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// ---- Event ----

TEST(InterruptEvent, InterruptedWaitThrowsAndTheEventStillWorks) {
  weft::Event event;
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { event.wait(); }, [&] { event.set(); }),
            Outcome::kCancelled);
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { (void)event.wait(1h); }, [&] { event.set(); }),
            Outcome::kCancelled);
  BlockedCall later([&] { event.wait(); }, [&] { event.set(); });
  ASSERT_TRUE(later.wait_parked());
  event.set();
  EXPECT_EQ(later.join(), Outcome::kReturned);
  EXPECT_FALSE(later.rescued());
}

TEST(InterruptEvent, SetRacingAnInterruptWakesTheOtherWaiter) {
  weft::Event event;
  for (int round = 0; round < kRaceRounds; ++round) {
    event.clear();
    BlockedCall first([&] { event.wait(); }, [&] { event.set(); });
    ASSERT_TRUE(first.wait_parked());
    BlockedCall second([&] { event.wait(); }, [&] { event.set(); });
    ASSERT_TRUE(second.wait_parked());
    race([&] { event.set(); }, [&] { first.interrupt(); });
    const Outcome a = first.join();
    ASSERT_TRUE(a == Outcome::kReturned || a == Outcome::kCancelled) << to_string(a);
    ASSERT_EQ(second.join(), Outcome::kReturned) << "round " << round;
    ASSERT_FALSE(second.rescued()) << "round " << round;
  }
}

TEST(InterruptEvent, APassedScopeDeadlineThrowsTimeoutError) {
  weft::Event event;
  {
    ScopeDeadline scope(weft::detail::Clock::now());
    EXPECT_THROW(event.wait(), weft::TimeoutError);
  }
  event.set();
  EXPECT_TRUE(event.wait());
}

// ---- Semaphore ----

TEST(InterruptSemaphore, InterruptedAcquireTakesNoPermit) {
  weft::Semaphore sem(0);
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { sem.acquire(); }, [&] { sem.release(); }),
            Outcome::kCancelled);
  sem.release();
  EXPECT_TRUE(sem.acquire(false)) << "the permit is still there";
  EXPECT_FALSE(sem.acquire(false));
}

TEST(InterruptSemaphore, ReleaseRacingAnInterruptLosesNoPermit) {
  weft::Semaphore sem(0);
  wake_one_races_interrupt([&] { sem.acquire(); }, [&] { sem.release(); },
                           [&] { ASSERT_FALSE(sem.acquire(false)) << "a permit left over"; });
}

TEST(InterruptSemaphore, BoundedSemaphoreReleaseRacingAnInterrupt) {
  weft::BoundedSemaphore sem(1);
  ASSERT_TRUE(sem.acquire());
  wake_one_races_interrupt([&] { sem.acquire(); }, [&] { sem.release(); },
                           [&] { ASSERT_FALSE(sem.acquire(false)) << "a permit left over"; });
  sem.release();
  EXPECT_THROW(sem.release(), weft::ValueError) << "the bound is intact";
}

TEST(InterruptSemaphore, APassedScopeDeadlineThrowsTimeoutError) {
  weft::Semaphore sem(0);
  {
    ScopeDeadline scope(weft::detail::Clock::now());
    EXPECT_THROW(sem.acquire(), weft::TimeoutError);
  }
  sem.release();
  EXPECT_TRUE(sem.acquire(false));
}

// ---- Thread::join, Timer ----

TEST(InterruptThread, InterruptedJoinThrowsAndALaterJoinWorks) {
  weft::Event gate;
  weft::Thread t([&] { gate.wait(); });
  t.start();
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { t.join(); }, [&] { gate.set(); }),
            Outcome::kCancelled);
  EXPECT_TRUE(t.is_alive());
  gate.set();
  t.join();
  EXPECT_FALSE(t.is_alive());
}

TEST(InterruptThread, StopRequestOfATimerEndsItsWaitWithoutRunningIt) {
  std::atomic<bool> ran{false};
  weft::Timer timer(1h, [&] { ran = true; });
  timer.start();
  timer.request_stop();
  const bool rescued =
      weft::testing::run_with_rescue([&] { timer.join(); }, [&] { timer.cancel(); });
  EXPECT_FALSE(rescued) << "the stop request did not end the timer's wait";
  EXPECT_FALSE(ran.load());
}

// ---- queues ----

template <class Q>
void interrupted_get_takes_nothing() {
  Q q;
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { (void)q.get(); }, [&] { q.put(0); }),
            Outcome::kCancelled);
  EXPECT_TRUE(q.empty());
  q.put(7);
  EXPECT_EQ(q.get_nowait(), 7);
  wake_one_races_interrupt([&] { (void)q.get(); }, [&] { q.put(1); },
                           [&] { ASSERT_TRUE(q.empty()) << "an item left over"; });
}

TEST(InterruptQueue, InterruptedGetTakesNothingAndAPutRacingItIsNeverLost) {
  interrupted_get_takes_nothing<weft::Queue<int>>();
}
TEST(InterruptQueue, LifoQueueGet) { interrupted_get_takes_nothing<weft::LifoQueue<int>>(); }
TEST(InterruptQueue, PriorityQueueGet) { interrupted_get_takes_nothing<weft::PriorityQueue<int>>(); }
TEST(InterruptQueue, SimpleQueueGet) { interrupted_get_takes_nothing<weft::SimpleQueue<int>>(); }

template <class Q>
void interrupted_put_inserts_nothing() {
  Q q(1);
  q.put(1);
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { q.put(2); }, [&] { (void)q.get(); }),
            Outcome::kCancelled);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.get_nowait(), 1) << "the cancelled put inserted nothing";
  q.put(3);
  // A get (making room for one) races the interrupt of the first of two putters.
  wake_one_races_interrupt([&] { q.put(4); }, [&] { (void)q.get(); },
                           [&] { ASSERT_EQ(q.qsize(), 1u) << "a put lost or doubled"; });
}

TEST(InterruptQueue, InterruptedPutInsertsNothingAndAGetRacingItIsNeverLost) {
  interrupted_put_inserts_nothing<weft::Queue<int>>();
}
TEST(InterruptQueue, LifoQueuePut) { interrupted_put_inserts_nothing<weft::LifoQueue<int>>(); }

template <class Q>
void interrupted_join_leaves_the_count() {
  Q q;
  q.put(1);
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { q.join(); },
                                             [&] {
                                               (void)q.get();
                                               q.task_done();
                                             }),
            Outcome::kCancelled);
  EXPECT_EQ(q.get(), 1);
  q.task_done();
  q.join();
  EXPECT_THROW(q.task_done(), weft::ValueError) << "the count is exact";
}

TEST(InterruptQueue, InterruptedJoinThrowsAndTheTaskCountIsIntact) {
  interrupted_join_leaves_the_count<weft::Queue<int>>();
}
TEST(InterruptQueue, LifoQueueJoin) { interrupted_join_leaves_the_count<weft::LifoQueue<int>>(); }

TEST(InterruptQueue, InterruptedPutManyKeepsWhatWentInAndReportsIt) {
  weft::Queue<int> q(2);
  std::vector<int> items{1, 2, 3};
  std::size_t put = 0;
  BlockedCall call([&] { put = q.put_many(std::span<int>(items)); }, [&] { (void)q.get(); });
  ASSERT_TRUE(call.wait_parked());
  call.interrupt();
  EXPECT_EQ(call.join(), Outcome::kReturned) << "a partly done batch returns its count";
  EXPECT_EQ(put, 2u);
  EXPECT_EQ(q.qsize(), 2u);
  // Nothing went in at all: the batch throws.
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { (void)q.put_many(std::span<int>(items)); },
                                             [&] { (void)q.get(); }),
            Outcome::kCancelled);
  EXPECT_EQ(q.qsize(), 2u);
}

TEST(InterruptQueue, InterruptedGetManyTakesNothing) {
  weft::Queue<int> q;
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { (void)q.get_many(4); }, [&] { q.put(0); }),
            Outcome::kCancelled);
  EXPECT_TRUE(q.empty());
}

TEST(InterruptQueue, APassedScopeDeadlineThrowsTimeoutErrorAndTakesNothing) {
  weft::Queue<int> q(1);
  {
    ScopeDeadline scope(weft::detail::Clock::now());
    EXPECT_THROW((void)q.get(), weft::TimeoutError);
    q.put_nowait(1);
    EXPECT_THROW(q.put(2), weft::TimeoutError);
  }
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.get(), 1);
}

TEST(InterruptSelect, InterruptedSelectTakesNothingAndTheSourcesStillWork) {
  weft::Queue<int> a;
  weft::LifoQueue<int> b;
  weft::Event e;
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { (void)weft::select(a, b, e); },
                                             [&] { e.set(); }),
            Outcome::kCancelled);
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(b.empty());
  std::atomic<int> got{-1};
  BlockedCall later([&] { got = weft::select(a, b, e).get<0>(); }, [&] { a.put(-2); });
  ASSERT_TRUE(later.wait_parked());
  a.put(5);
  EXPECT_EQ(later.join(), Outcome::kReturned);
  EXPECT_EQ(got.load(), 5);
}

// ---- futures ----

TEST(InterruptFuture, InterruptedResultAndExceptionThrowAndTheFutureStillCompletes) {
  weft::Future<int> f;
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { (void)f.result(); }, [&] { f.set_result(0); }),
            Outcome::kCancelled);
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { (void)f.exception(); },
                                             [&] { f.set_result(0); }),
            Outcome::kCancelled);
  BlockedCall later([&] { EXPECT_EQ(f.result(), 3); }, [&] { f.set_result(-1); });
  ASSERT_TRUE(later.wait_parked());
  f.set_result(3);
  EXPECT_EQ(later.join(), Outcome::kReturned);
  EXPECT_FALSE(later.rescued());
}

TEST(InterruptFuture, InterruptedWaitAndAsCompletedThrow) {
  weft::Future<int> f;
  weft::Future<int> g;
  std::vector<weft::Future<int>> fs{f, g};
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { (void)weft::wait(fs); },
                                             [&] {
                                               f.set_result(1);
                                               g.set_result(2);
                                             }),
            Outcome::kCancelled);
  int seen = 0;
  EXPECT_EQ(weft::testing::interrupt_blocked(
                [&] {
                  for (auto& done : weft::as_completed(fs)) seen += done.result();
                },
                [&] {
                  f.set_result(1);
                  g.set_result(2);
                }),
            Outcome::kCancelled);
  EXPECT_EQ(seen, 0);
  f.set_result(1);
  g.set_result(2);
  const auto result = weft::wait(fs);
  EXPECT_EQ(result.done.size(), 2u);
}

TEST(InterruptFuture, APoolTaskOfAnInterruptedWaiterStillRuns) {
  weft::ThreadPoolExecutor pool(1);
  weft::Event gate;
  weft::testing::ScopeExit open([&] { gate.set(); });
  weft::Future<int> f = pool.submit([&] {
    gate.wait();
    return 42;
  });
  EXPECT_EQ(weft::testing::interrupt_blocked([&] { (void)f.result(); }, [&] { gate.set(); }),
            Outcome::kCancelled);
  gate.set();
  EXPECT_EQ(f.result(), 42);
}

}  // namespace
