// SPDX-License-Identifier: Apache-2.0
// Timer: fires after its interval, cancel() before the interval prevents it, the
// wait is a real park that cancel() ends at once.
#include "weft/timer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "support/blocking.hpp"
#include "weft/errors.hpp"
#include "weft/lock.hpp"
#include "weft/testing.hpp"

using namespace std::chrono_literals;

namespace {

TEST(Timer, FiresAfterAtLeastTheInterval) {
  std::atomic<int> calls{0};
  std::chrono::steady_clock::time_point fired{};
  const auto begin = std::chrono::steady_clock::now();
  weft::Timer t(30ms, [&](int n) {
    fired = std::chrono::steady_clock::now();
    calls += n;
  }, 1);
  t.start();
  t.join();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_GE(fired - begin, 30ms);
}

// In virtual time (weft::testing::run) a Timer fires exactly at its interval, and a
// cancel() at any virtual time before it stops it.
TEST(Timer, FiresAtExactlyTheIntervalInVirtualTime) {
  weft::testing::run([] {
    const auto begin = weft::clock::now();
    weft::clock::duration fired_after{};
    weft::Timer t(10min, [&] { fired_after = weft::clock::now() - begin; });
    t.start();
    t.join();
    EXPECT_EQ(fired_after, 10min);
  });
}

TEST(Timer, CancelJustBeforeTheIntervalInVirtualTime) {
  weft::testing::run([] {
    const auto begin = weft::clock::now();
    bool ran = false;
    weft::Timer t(10min, [&] { ran = true; });
    weft::Timer canceller(10min - 1ns, [&] { t.cancel(); });
    t.start();
    canceller.start();
    t.join();
    canceller.join();
    EXPECT_FALSE(ran);
    EXPECT_EQ(weft::clock::now() - begin, 10min - 1ns);
  });
}

TEST(Timer, CancelBeforeStartMeansNeverRuns) {
  bool ran = false;
  weft::Timer t(0s, [&] { ran = true; });
  t.cancel();
  t.start();
  t.join();
  EXPECT_FALSE(ran);
}

TEST(Timer, CancelWakesTheWaitingTimerAtOnce) {
  bool ran = false;
  weft::Timer t(1h, [&] { ran = true; });
  t.start();
  // Wait until the timer thread is really parked, then cancel: join returns at once
  // (an hour-long interval would otherwise hang the test).
  // EXPECT, not ASSERT: an early return would wait an hour in ~Timer's join.
  EXPECT_TRUE(weft::testing::wait_until_parked(*t.ident()));
  t.cancel();
  t.join();
  EXPECT_FALSE(ran);
}

TEST(Timer, TheWaitIsAParkedTimerWait) {
  weft::Timer t(1h, [] {});
  t.start();
  EXPECT_TRUE(weft::testing::wait_until_parked(*t.ident()));  // no early return (1 h)
  const auto site = weft::testing::parked_site(*t.ident());
  // EXPECT, not ASSERT: an early return would wait an hour in ~Timer's join.
  EXPECT_TRUE(site.has_value() && site->kind == weft::detail::ObjKind::timer &&
              site->object == &t);
  t.cancel();
  t.join();
}

TEST(Timer, CancelAfterFiringHasNoEffect) {
  std::atomic<int> calls{0};
  weft::Timer t(0s, [&] { ++calls; });
  t.start();
  t.join();
  t.cancel();
  EXPECT_EQ(calls.load(), 1);
}

TEST(Timer, IsAThreadWithThreadMisuseRules) {
  weft::Timer t(0s, [] {});
  EXPECT_EQ(t.name().rfind("Thread-", 0), 0u);
  EXPECT_THROW(t.join(), weft::RuntimeError);
  t.start();
  EXPECT_THROW(t.start(), weft::RuntimeError);
  t.join();
}

TEST(Timer, MoveOnlyArguments) {
  int got = 0;
  weft::Timer t(1ms, [&](std::unique_ptr<int> p) { got = *p; }, std::make_unique<int>(5));
  t.start();
  t.join();
  EXPECT_EQ(got, 5);
}

TEST(Timer, DestroyingARunningDaemonTimerIsSafe) {
  auto done = std::make_shared<weft::Lock>();
  done->acquire();
  auto t = std::make_unique<weft::Timer>(20ms, [done] { done->release(); });
  t->set_daemon(true);
  t->start();
  t.reset();            // detached: the timer still fires from shared state
  done->acquire();      // parks until it did
  SUCCEED();
}

TEST(Timer, DestroyingARunningNonDaemonTimerWaitsForIt) {
  std::atomic<bool> ran{false};
  {
    weft::Timer t(10ms, [&] { ran = true; });
    t.start();
  }
  EXPECT_TRUE(ran.load());
}

}  // namespace
