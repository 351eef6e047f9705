// SPDX-License-Identifier: Apache-2.0
// Event unit tests: flag, wake-ups, issue 13502, timeouts, a late wake-up after clear().
#include "weft/event.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "support/scope_exit.hpp"
#include "threading/event_testing.hpp"
#include "threading/prims_support.hpp"
#include "weft/semaphore.hpp"
#include "weft/testing.hpp"
#include "weft/thread.hpp"

using namespace std::chrono_literals;
using weft::testing::expect_blocks_until;

TEST(Event, StartsClearAndFollowsSetAndClear) {
  weft::Event event("event under test");
  EXPECT_FALSE(event.is_set());
  event.set();
  EXPECT_TRUE(event.is_set());
  event.set();
  EXPECT_TRUE(event.is_set());
  event.clear();
  EXPECT_FALSE(event.is_set());
  event.clear();
  EXPECT_FALSE(event.is_set());
}

TEST(Event, WaitOnASetFlagReturnsTrueAtOnce) {
  weft::Event event;
  event.set();
  EXPECT_TRUE(event.wait());
  EXPECT_TRUE(event.wait(0s));
  EXPECT_TRUE(event.wait(-1s));
  EXPECT_TRUE(event.wait(1h));
}

TEST(Event, WaitBlocksUntilSet) {
  weft::Event event;
  const bool result = expect_blocks_until([&] { return event.wait(); }, [&] { event.set(); });
  EXPECT_TRUE(result);
}

TEST(Event, TimedWaitReturnsTrueWhenSetInTime) {
  weft::Event event;
  const bool result = expect_blocks_until([&] { return event.wait(1h); }, [&] { event.set(); });
  EXPECT_TRUE(result);
}

TEST(Event, TimedWaitReturnsFalseAfterTheTimeout) {
  weft::Event event;
  bool result = true;
  const auto took = weft::testing::time_of([&] { result = event.wait(20ms); });
  EXPECT_FALSE(result);
  EXPECT_GE(took, 20ms);
  EXPECT_FALSE(event.wait(0s));
  EXPECT_FALSE(event.wait(-5ms));
}

TEST(Event, WaiterReturnsTrueEvenIfClearFollowsSetAtOnce) {  // CPython issue 13502
  weft::Event event;
  const bool result = expect_blocks_until([&] { return event.wait(1h); },
                                          [&] {
                                            event.set();
                                            event.clear();
                                          });
  EXPECT_TRUE(result);
  EXPECT_FALSE(event.is_set());
}

TEST(Event, SetWakesEveryWaiter) {
  weft::Event event;
  std::atomic<int> woke{0};
  weft::testing::Bunch bunch(5, [&](std::size_t i) {
    if (i % 2 == 0 ? event.wait() : event.wait(1h)) woke.fetch_add(1);
  });
  EXPECT_TRUE(bunch.wait_all_parked());  // no early return: set() releases the bunch
  event.set();
  event.clear();
  bunch.join();
  EXPECT_EQ(woke.load(), 5);
}

TEST(Event, WaitAfterClearBlocksAgain) {
  weft::Event event;
  event.set();
  event.clear();
  EXPECT_FALSE(event.wait(1ms));
  const bool result = expect_blocks_until([&] { return event.wait(); }, [&] { event.set(); });
  EXPECT_TRUE(result);
}

TEST(Event, SetPublishesWritesMadeBeforeIt) {
  weft::Event event;
  int payload = 0;
  std::thread setter([&] {
    payload = 42;
    event.set();
  });
  ASSERT_TRUE(event.wait());
  EXPECT_EQ(payload, 42);
  setter.join();
}

namespace {

// A setter held inside set(), between its update of the flag and its wake-up of the
// waiters it found (the seam of threading/event_testing.hpp).
struct SetterHeldInWakeWindow {
  const void* event = nullptr;
  weft::Semaphore entered{0};  // released by the setter once it is in the window
  weft::Semaphore leave{0};    // released by the test to let it go on
};
SetterHeldInWakeWindow* held_setter = nullptr;

void hold_setter_in_wake_window(const void* event) {
  if (held_setter == nullptr || event != held_setter->event) return;
  held_setter->entered.release();
  held_setter->leave.acquire();
}

}  // namespace

// Python: wait() returns true only if the flag was set before or during that wait. A
// set() that found a waiter and is still waking it must not end a wait() that began
// after clear(): deterministic, the setter is held between its flag update and its
// wake-up (the window a slow setter once left open: a late wake-up ended such a wait).
TEST(Event, ASetStillWakingCannotEndAWaitThatBeganAfterClear) {
  weft::testing::run([] {
    weft::Event event;
    SetterHeldInWakeWindow window;
    window.event = &event;
    bool first_result = false;
    bool late_result = true;
    weft::Thread first_waiter([&] { first_result = event.wait(); });
    first_waiter.start();
    weft::testing::wait();  // it is parked: set() will find it
    held_setter = &window;
    weft::detail::g_event_wake_window_hook_for_tests.store(&hold_setter_in_wake_window);
    weft::testing::ScopeExit unhook([] {
      weft::detail::g_event_wake_window_hook_for_tests.store(nullptr);
      held_setter = nullptr;
    });
    weft::Thread setter([&] { event.set(); });
    setter.start();
    window.entered.acquire();  // the flag is set, the waiter not woken yet
    EXPECT_TRUE(event.is_set());
    event.clear();
    const auto late_start = weft::clock::now();
    weft::Thread late_waiter([&] { late_result = event.wait(1h); });
    late_waiter.start();
    weft::testing::wait();  // parked after the clear
    window.leave.release();  // the setter wakes what it found
    setter.join();
    first_waiter.join();
    late_waiter.join();
    EXPECT_TRUE(first_result);
    EXPECT_FALSE(late_result);  // it ran to its timeout: nothing set the flag during it
    EXPECT_EQ(weft::clock::now() - late_start, 1h);
  });
}
