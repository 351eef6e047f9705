// SPDX-License-Identifier: Apache-2.0
// weft::testing::run: virtual time (a bubble's clock jumps to the earliest deadline once
// every thread of the bubble is blocked), deadlock detection with the thread dump,
// testing::wait, and determinism.
#include "weft/testing.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "weft/event.hpp"
#include "weft/futures.hpp"
#include "weft/lock.hpp"
#include "weft/queue.hpp"
#include "weft/thread.hpp"
#include "weft/timer.hpp"

using namespace std::chrono_literals;

namespace {

using weft::clock;

// Sleeps `d` on weft::clock through a weft wait that nothing ends early.
template <class Rep, class Period>
void sleep_on_clock(std::chrono::duration<Rep, Period> d) {
  weft::Event never;
  never.wait(d);
}

// Real time taken by fn.
template <class F>
std::chrono::steady_clock::duration real_time_of(F fn) {
  const auto begin = std::chrono::steady_clock::now();
  fn();
  return std::chrono::steady_clock::now() - begin;
}

// A bound on the real time of a test whose virtual time is minutes: far below those
// minutes, far above what a loaded machine needs for the work itself.
constexpr auto kFarBelowTheVirtualTime = 60s;

TEST(VirtualClock, OutsideABubbleIsSteadyTime) {
  const auto before = std::chrono::steady_clock::now().time_since_epoch();
  const auto now = clock::now().time_since_epoch();
  const auto after = std::chrono::steady_clock::now().time_since_epoch();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
  static_assert(clock::is_steady);
}

TEST(VirtualClock, StartsAtTheSameValueInEveryRunAndStandsStillWhileThreadsRun) {
  clock::time_point first{}, second{}, later{};
  weft::testing::run([&] { first = clock::now(); });
  weft::testing::run([&] {
    second = clock::now();
    volatile unsigned spin = 0;
    for (unsigned i = 0; i < 1'000'000; ++i) spin = spin + i;
    later = clock::now();
  });
  EXPECT_EQ(first, second);
  EXPECT_EQ(second, later);  // running is not blocked: no time passes
  EXPECT_NE(first, clock::time_point{});
}

TEST(VirtualClock, TimeoutEndsAtExactlyItsVirtualDeadline) {
  clock::duration waited{};
  const auto real = real_time_of([&] {
    weft::testing::run([&] {
      weft::Queue<int> q;
      const auto begin = clock::now();
      EXPECT_THROW(q.get(30s), weft::Empty);
      waited = clock::now() - begin;
    });
  });
  EXPECT_EQ(waited, 30s);
  EXPECT_LT(real, kFarBelowTheVirtualTime / 2);
}

TEST(VirtualClock, TenMinuteTimerTakesNoRealTime) {
  clock::duration fired_after{};
  const auto real = real_time_of([&] {
    weft::testing::run([&] {
      const auto begin = clock::now();
      weft::Timer timer(10min, [&] { fired_after = clock::now() - begin; });
      timer.start();
      timer.join();
    });
  });
  EXPECT_EQ(fired_after, 10min);
  EXPECT_LT(real, kFarBelowTheVirtualTime);
}

TEST(VirtualClock, HundredTasksSleepingAMinuteOnTenWorkersTakeTenMinutes) {
  clock::duration total{};
  std::atomic<int> ran{0};
  const auto real = real_time_of([&] {
    weft::testing::run([&] {
      const auto begin = clock::now();
      weft::ThreadPoolExecutor pool(10);
      std::vector<weft::Future<void>> fs;
      for (int i = 0; i < 100; ++i)
        fs.push_back(pool.submit([&] {
          sleep_on_clock(1min);
          ++ran;
        }));
      weft::wait(fs);
      total = clock::now() - begin;
    });
  });
  EXPECT_EQ(ran.load(), 100);
  EXPECT_EQ(total, 10min);
  EXPECT_LT(real, kFarBelowTheVirtualTime);
}

TEST(VirtualClock, AcquireTimesOutWhileTheHolderWaitsLonger) {
  std::vector<clock::duration> seen;
  weft::testing::run([&] {
    const auto begin = clock::now();
    weft::Lock lock;
    weft::Event done;
    lock.acquire();
    weft::Thread t([&] {
      EXPECT_FALSE(lock.acquire(5s));
      seen.push_back(clock::now() - begin);
      done.set();
    });
    t.start();
    EXPECT_TRUE(done.wait(1h));
    seen.push_back(clock::now() - begin);
    lock.release();
    t.join();
  });
  EXPECT_EQ(seen, (std::vector<clock::duration>{5s, 5s}));
}

TEST(VirtualClock, RethrowsWhatFnThrew) {
  EXPECT_THROW(weft::testing::run([] { throw std::out_of_range("x"); }), std::out_of_range);
}

TEST(VirtualClock, BubblesDoNotNest) {
  bool threw = false;
  weft::testing::run([&] {
    try {
      weft::testing::run([] {});
    } catch (const weft::RuntimeError&) {
      threw = true;
    }
  });
  EXPECT_TRUE(threw);
}

// A producer, a consumer and a Timer; returns the virtual times the consumer saw.
std::vector<clock::duration> timestamps_of_a_run() {
  std::vector<clock::duration> stamps;
  weft::testing::run([&] {
    const auto begin = clock::now();
    weft::Queue<int> q;
    weft::Thread producer([&] {
      for (int i = 1; i <= 5; ++i) {
        sleep_on_clock(std::chrono::seconds(i));
        q.put(i);
      }
    });
    producer.start();
    for (int i = 0; i < 5; ++i) {
      q.get();
      stamps.push_back(clock::now() - begin);
    }
    weft::Timer timer(7s, [&] { q.put(0); });
    timer.start();
    q.get();
    stamps.push_back(clock::now() - begin);
    timer.join();
    producer.join();
  });
  return stamps;
}

TEST(VirtualClock, SameTimestampsInEveryRun) {
  const auto first = timestamps_of_a_run();
  EXPECT_EQ(first, (std::vector<clock::duration>{1s, 3s, 6s, 10s, 15s, 22s}));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(timestamps_of_a_run(), first);
}

TEST(VirtualClockDeadlock, SelfDeadlockThrowsDeadlockWithTheDump) {
  try {
    weft::testing::run([] {
      weft::Lock lock("the-lock");
      lock.acquire();
      lock.acquire();
    });
    FAIL() << "no Deadlock";
  } catch (const weft::testing::Deadlock& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("deadlock"), std::string::npos) << what;
    EXPECT_NE(what.find("weft thread dump: 1 thread(s)"), std::string::npos) << what;
    EXPECT_NE(what.find("testing::run"), std::string::npos) << what;
    EXPECT_NE(what.find("the-lock"), std::string::npos) << what;
    EXPECT_NE(what.find("(no timeout)"), std::string::npos) << what;
  }
}

TEST(VirtualClockDeadlock, EveryThreadsWaitEndsSoRunReturns) {
  std::atomic<int> ended_by_deadlock{0};
  try {
    weft::testing::run([&] {
      weft::Event never("never");
      weft::Thread waiter(weft::ThreadOptions{"waiter"}, [&] {
        try {
          never.wait();
        } catch (const weft::testing::Deadlock&) {
          ++ended_by_deadlock;
        }
      });
      waiter.start();
      try {
        never.wait();
      } catch (const weft::testing::Deadlock&) {
        ++ended_by_deadlock;
      }
      waiter.join();
    });
    FAIL() << "no Deadlock";
  } catch (const weft::testing::Deadlock& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("weft thread dump: 2 thread(s)"), std::string::npos) << what;
    EXPECT_NE(what.find("\"waiter\""), std::string::npos) << what;
    EXPECT_NE(what.find("never"), std::string::npos) << what;
  }
  EXPECT_EQ(ended_by_deadlock.load(), 2);
}

TEST(VirtualClockDeadlock, AWaitWithATimeoutIsNoDeadlock) {
  bool timed_out = false;
  EXPECT_NO_THROW(weft::testing::run([&] {
    weft::Event never;
    timed_out = !never.wait(24h);
  }));
  EXPECT_TRUE(timed_out);
}

TEST(TestingWait, ReturnsOnceEveryOtherThreadIsBlockedWithoutMovingTheClock) {
  weft::testing::run([&] {
    const auto begin = clock::now();
    std::atomic<int> stage{0};
    weft::Queue<int> in, out;
    weft::Thread worker([&] {
      stage = 1;
      out.put(in.get() * 2);
      stage = 2;
      sleep_on_clock(1min);
      stage = 3;
    });
    worker.start();
    weft::testing::wait();
    EXPECT_EQ(stage.load(), 1);  // blocked in in.get()
    in.put(21);
    weft::testing::wait();
    EXPECT_EQ(stage.load(), 2);  // blocked in its one-minute sleep
    EXPECT_EQ(clock::now(), begin);
    EXPECT_EQ(out.get_nowait(), 42);
    worker.join();
    EXPECT_EQ(stage.load(), 3);
    EXPECT_EQ(clock::now() - begin, 1min);
  });
}

TEST(TestingWait, OutsideABubbleThrows) {
  EXPECT_THROW(weft::testing::wait(), weft::RuntimeError);
}

}  // namespace
