// SPDX-License-Identifier: Apache-2.0
// <weft/cancel.hpp>: weft::sleep (virtual inside a bubble, interruptible), CancelScope,
// Timeout, their nesting, Thread::request_stop / stop_token. Every timeout here runs on
// virtual time (weft::testing::run), so no test depends on the real clock except the one
// that proves the real-clock path waits at least its duration.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <stop_token>
#include <string>
#include <type_traits>

#include "support/blocking.hpp"
#include "weft/cancel.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/event.hpp"
#include "weft/testing.hpp"
#include "weft/thread.hpp"

namespace {

using namespace std::chrono_literals;
using weft::CancelledError;
using weft::CancelScope;
using weft::Timeout;
using weft::TimeoutError;

static_assert(!std::is_base_of_v<weft::Error, weft::KeyboardInterrupt>,
              "KeyboardInterrupt is outside weft::Error, as Python's is outside Exception");
static_assert(!std::is_copy_constructible_v<CancelScope> && !std::is_move_constructible_v<CancelScope>);
static_assert(!std::is_copy_constructible_v<Timeout> && !std::is_move_constructible_v<Timeout>);

weft::clock::duration since(weft::clock::time_point t0) { return weft::clock::now() - t0; }

// The calling thread has no kInterruptStop pending (a scope that ended cleaned up).
bool stop_reason_pending() {
  return (weft::detail::pending_interrupts() & weft::detail::kInterruptStop) != 0;
}

// ---- weft::sleep ----

TEST(Sleep, TakesExactlyItsDurationOfVirtualTime) {
  weft::testing::run([] {
    const auto t0 = weft::clock::now();
    weft::sleep(10min);
    EXPECT_EQ(since(t0), 10min);
    weft::sleep(1500us);
    EXPECT_EQ(since(t0), 10min + 1500us);
    weft::sleep(std::chrono::duration<double>(0.25));
    EXPECT_EQ(since(t0), 10min + 1500us + 250ms);
  });
}

TEST(Sleep, ZeroOrNegativeReturnsAtOnceAndNanIsAValueError) {
  weft::testing::run([] {
    const auto t0 = weft::clock::now();
    weft::sleep(0s);
    weft::sleep(-5s);
    weft::sleep(std::chrono::duration<double>(-std::numeric_limits<double>::infinity()));
    EXPECT_EQ(since(t0), 0s);
    EXPECT_THROW(weft::sleep(std::chrono::duration<double>(std::nan(""))), weft::ValueError);
  });
}

TEST(Sleep, RealClockWaitsAtLeastItsDuration) {
  const auto t0 = std::chrono::steady_clock::now();
  weft::sleep(5ms);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 5ms);
}

TEST(Sleep, SleepingThreadsOfABubbleWakeInDeadlineOrder) {
  weft::testing::run([] {
    const auto t0 = weft::clock::now();
    std::atomic<int> order{0};
    int first = 0, second = 0;
    weft::Thread late([&] {
      weft::sleep(2h);
      second = ++order;
      EXPECT_EQ(since(t0), 2h);
    });
    weft::Thread early([&] {
      weft::sleep(1h);
      first = ++order;
      EXPECT_EQ(since(t0), 1h);
    });
    late.start();
    early.start();
    late.join();
    early.join();
    EXPECT_EQ(first, 1);
    EXPECT_EQ(second, 2);
  });
}

// ---- CancelScope ----

TEST(CancelScope, StopWakesABlockedSleepWithCancelledError) {
  weft::testing::run([] {
    std::stop_source stop;
    const auto t0 = weft::clock::now();
    std::atomic<bool> cancelled{false};
    weft::Thread sleeper([&] {
      CancelScope scope(stop.get_token());
      try {
        weft::sleep(1h);
      } catch (const CancelledError&) {
        cancelled = true;
        EXPECT_TRUE(scope.cancel_called());
      }
      EXPECT_FALSE(scope.cancel_called() && !cancelled);
    });
    sleeper.start();
    weft::testing::wait();  // the sleeper is blocked; the clock has not moved
    stop.request_stop();
    sleeper.join();
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(since(t0), 0s) << "the sleep ended by the stop, not by its deadline";
  });
}

TEST(CancelScope, StopWakesABlockedSleepOnTheRealClock) {
  std::stop_source stop;
  std::atomic<bool> cancelled{false};
  const bool rescued = weft::testing::run_with_rescue(
      [&] {
        weft::testing::expect_blocks_until(
            [&] {
              CancelScope scope(stop.get_token());
              try {
                weft::sleep(1h);
              } catch (const CancelledError&) {
                cancelled = true;
              }
            },
            [&] { stop.request_stop(); });
      },
      [&] { stop.request_stop(); });
  EXPECT_FALSE(rescued);
  EXPECT_TRUE(cancelled);
}

TEST(CancelScope, AlreadyStoppedTokenCancelsEveryBlockingCallInside) {
  weft::testing::run([] {
    std::stop_source stop;
    stop.request_stop();
    const auto t0 = weft::clock::now();
    {
      CancelScope scope(stop.get_token());
      EXPECT_TRUE(scope.cancel_called());
      EXPECT_THROW(weft::sleep(1s), CancelledError);
      EXPECT_THROW(weft::sleep(1s), CancelledError) << "a stopped scope stays stopped";
      weft::sleep(0s);  // completes without blocking: completes
    }
    EXPECT_FALSE(stop_reason_pending());
    weft::sleep(1s);  // outside the scope: not cancelled
    EXPECT_EQ(since(t0), 1s);
  });
}

TEST(CancelScope, TokenThatCannotStopNeverCancels) {
  weft::testing::run([] {
    CancelScope scope{std::stop_token{}};
    EXPECT_FALSE(scope.cancel_called());
    weft::sleep(1s);
  });
}

TEST(CancelScope, NestedScopesCancelWhileAnyIsStopped) {
  weft::testing::run([] {
    std::stop_source outer_stop, inner_stop;
    CancelScope outer(outer_stop.get_token());
    {
      CancelScope inner(inner_stop.get_token());
      inner_stop.request_stop();
      EXPECT_THROW(weft::sleep(1s), CancelledError);
    }
    EXPECT_FALSE(stop_reason_pending()) << "the stopped inner scope ended";
    weft::sleep(1s);  // the outer one is not stopped
    {
      std::stop_source unrelated;
      CancelScope inner(unrelated.get_token());
      outer_stop.request_stop();
      EXPECT_THROW(weft::sleep(1s), CancelledError);
    }
    EXPECT_TRUE(stop_reason_pending()) << "the outer scope is still stopped";
    EXPECT_THROW(weft::sleep(1s), CancelledError);
  });
  EXPECT_FALSE(stop_reason_pending());
}

TEST(CancelScope, StopOfAnOuterScopeWakesASleepInAnInnerOne) {
  weft::testing::run([] {
    std::stop_source outer_stop;
    std::atomic<bool> cancelled{false};
    weft::Thread t([&] {
      CancelScope outer(outer_stop.get_token());
      std::stop_source never;
      CancelScope inner(never.get_token());
      try {
        weft::sleep(1h);
      } catch (const CancelledError&) {
        cancelled = true;
      }
    });
    t.start();
    weft::testing::wait();
    outer_stop.request_stop();
    t.join();
    EXPECT_TRUE(cancelled);
  });
}

// ---- Timeout ----

TEST(Timeout, EndsABlockingCallAtItsDeadlineWithTimeoutError) {
  weft::testing::run([] {
    const auto t0 = weft::clock::now();
    Timeout budget(5s);
    EXPECT_FALSE(budget.expired());
    weft::sleep(2s);  // ends before the deadline: as without the scope
    EXPECT_EQ(since(t0), 2s);
    EXPECT_THROW(weft::sleep(10s), TimeoutError);
    EXPECT_EQ(since(t0), 5s) << "the scope's deadline, not the call's own";
    EXPECT_TRUE(budget.expired());
    EXPECT_THROW(weft::sleep(1s), TimeoutError) << "every later blocking call inside";
  });
}

TEST(Timeout, OwnTimeoutEndingFirstOrTogetherBehavesAsWithoutTheScope) {
  weft::testing::run([] {
    const auto t0 = weft::clock::now();
    Timeout budget(5s);
    weft::Event never_set;
    EXPECT_FALSE(never_set.wait(3s));
    EXPECT_EQ(since(t0), 3s);
    EXPECT_FALSE(never_set.wait(2s)) << "own deadline equal to the scope's: a plain timeout";
    EXPECT_EQ(since(t0), 5s);
  });
}

TEST(Timeout, NestedScopesUseTheEarliestDeadline) {
  weft::testing::run([] {
    const auto t0 = weft::clock::now();
    Timeout outer(10s);
    {
      Timeout inner(2s);
      EXPECT_THROW(weft::sleep(1h), TimeoutError);
      EXPECT_EQ(since(t0), 2s);
    }
    weft::sleep(3s);  // the inner deadline is gone
    EXPECT_EQ(since(t0), 5s);
    {
      Timeout longer(1h);  // cannot extend the outer scope
      EXPECT_THROW(weft::sleep(1h), TimeoutError);
      EXPECT_EQ(since(t0), 10s);
      EXPECT_FALSE(longer.expired());
    }
    EXPECT_TRUE(outer.expired());
  });
  EXPECT_EQ(weft::detail::scope_deadline(), weft::detail::kForever);
}

TEST(Timeout, ScopeDeadlineAgainstAnInnerCancelScope) {
  weft::testing::run([] {
    const auto t0 = weft::clock::now();
    std::stop_source stop;
    Timeout budget(5s);
    {
      CancelScope scope(stop.get_token());
      EXPECT_THROW(weft::sleep(1h), TimeoutError) << "the deadline came, no stop";
      stop.request_stop();
      // Both apply now; the stop is reported first.
      EXPECT_THROW(weft::sleep(1h), CancelledError);
    }
    EXPECT_EQ(since(t0), 5s);
  });
}

TEST(Timeout, ZeroAndNegativeAreAlreadyExpiredAndNanIsAValueError) {
  weft::testing::run([] {
    Timeout zero(0s);
    EXPECT_TRUE(zero.expired());
    EXPECT_THROW(weft::sleep(1s), TimeoutError);
    EXPECT_THROW({ Timeout nan(std::chrono::duration<double>(std::nan(""))); },
                 weft::ValueError);
  });
}

// ---- Thread::request_stop / stop_token ----

struct HookCounter {
  std::atomic<int> calls{0};
  std::string last_type;
  HookCounter() {
    weft::set_excepthook([this](const weft::ExceptHookArgs& a) {
      last_type = a.exc_type;
      ++calls;
    });
  }
  ~HookCounter() { weft::set_excepthook({}); }
};

TEST(ThreadStop, RequestStopCancelsASleepingThreadQuietly) {
  HookCounter hook;
  weft::testing::run([] {
    const auto t0 = weft::clock::now();
    std::atomic<bool> after_sleep{false};
    weft::Thread t([&] {
      weft::sleep(1h);
      after_sleep = true;
    });
    EXPECT_FALSE(t.stop_token().stop_requested());
    t.start();
    weft::testing::wait();
    EXPECT_TRUE(t.request_stop());
    EXPECT_FALSE(t.request_stop()) << "only the first call makes the request";
    t.join();
    EXPECT_FALSE(after_sleep);
    EXPECT_TRUE(t.stop_token().stop_requested());
    EXPECT_EQ(since(t0), 0s);
  });
  EXPECT_EQ(hook.calls, 0) << "a CancelledError after request_stop() is not reported";
}

TEST(ThreadStop, TargetTakingAStopTokenReceivesTheThreadsToken) {
  weft::testing::run([] {
    std::atomic<int> seen{0};
    std::atomic<bool> was_stopped{false};
    weft::Thread t(
        [&](std::stop_token token, int x) {
          seen = x;
          while (!token.stop_requested()) {
            try {
              weft::sleep(1min);
            } catch (const CancelledError&) {
            }
          }
          was_stopped = true;
        },
        42);
    t.start();
    weft::testing::wait();
    t.request_stop();
    t.join();
    EXPECT_EQ(seen, 42);
    EXPECT_TRUE(was_stopped);
  });
}

TEST(ThreadStop, StopRequestedBeforeStartCancelsTheFirstBlockingCall) {
  HookCounter hook;
  weft::testing::run([] {
    std::atomic<bool> threw{false};
    weft::Thread t([&](std::stop_token token) {
      EXPECT_TRUE(token.stop_requested());
      try {
        weft::sleep(1s);
      } catch (const CancelledError&) {
        threw = true;
      }
    });
    t.request_stop();
    t.start();
    t.join();
    EXPECT_TRUE(threw);
  });
  EXPECT_EQ(hook.calls, 0);
}

TEST(ThreadStop, CancelledErrorWithoutARequestIsReported) {
  HookCounter hook;
  weft::testing::run([] {
    weft::Thread t([] {
      std::stop_source other;
      other.request_stop();
      CancelScope scope(other.get_token());
      weft::sleep(1s);  // throws CancelledError: not the thread's own stop
    });
    t.start();
    t.join();
  });
  EXPECT_EQ(hook.calls, 1);
  EXPECT_NE(hook.last_type.find("CancelledError"), std::string::npos) << hook.last_type;
}

TEST(ThreadStop, OtherThreadsAreNotAffected) {
  weft::testing::run([] {
    const auto t0 = weft::clock::now();
    std::atomic<bool> b_done{false};
    weft::Thread a([] { weft::sleep(1h); });
    weft::Thread b([&] {
      weft::sleep(2s);
      b_done = true;
    });
    a.start();
    b.start();
    weft::testing::wait();
    a.request_stop();
    a.join();
    b.join();
    EXPECT_TRUE(b_done);
    EXPECT_EQ(since(t0), 2s);
  });
}

TEST(CheckInterrupt, QuietWithoutAPendingSignal) {
  weft::check_interrupt();
  std::stop_source stop;
  stop.request_stop();
  CancelScope scope(stop.get_token());
  weft::check_interrupt();  // only Ctrl-C counts here
}

}  // namespace
