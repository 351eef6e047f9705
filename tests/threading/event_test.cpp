// SPDX-License-Identifier: Apache-2.0
// Event unit tests: flag, wake-ups, issue 13502, timeouts.
#include "weft/event.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "threading/prims_support.hpp"

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
