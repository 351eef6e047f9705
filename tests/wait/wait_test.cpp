// SPDX-License-Identifier: Apache-2.0
// L0 wait layer: the same tests run on whichever backend this process uses; CI runs the
// suite again with WEFT_WAIT_BACKEND=fallback set, and once more with it compiled in.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "support/blocking.hpp"
#include "weft/detail/wait.hpp"

namespace {

using namespace std::chrono_literals;
using weft::detail::Clock;
using weft::detail::kForever;
using weft::detail::wait_on_address;
using weft::detail::WaitResult;
using weft::detail::wake_by_address;

TEST(Wait, BackendIsNamed) {
  const std::string name = weft::detail::wait_backend_name();
  EXPECT_TRUE(name == "futex" || name == "fallback") << name;
}

TEST(Wait, MismatchReturnsAtOnce) {
  std::atomic<std::uint32_t> word{1};
  EXPECT_EQ(wait_on_address(word, 0, kForever), WaitResult::mismatch);
}

TEST(Wait, PastDeadlineTimesOut) {
  std::atomic<std::uint32_t> word{0};
  EXPECT_EQ(wait_on_address(word, 0, Clock::now() - 1s), WaitResult::timed_out);
}

TEST(Wait, TimedWaitWaitsAtLeastTheTimeout) {
  std::atomic<std::uint32_t> word{0};
  const auto start = Clock::now();
  const auto deadline = start + 20ms;
  WaitResult r;
  do {
    r = wait_on_address(word, 0, deadline);  // spurious returns are allowed: retry
  } while (r == WaitResult::woken);
  EXPECT_EQ(r, WaitResult::timed_out);
  EXPECT_GE(Clock::now(), deadline);
}

TEST(Wait, WakeReleasesAWaiter) {
  std::atomic<std::uint32_t> word{0};
  std::atomic<bool> done{false};
  std::atomic<long> tid{0};
  std::thread waiter([&] {
    tid = weft::testing::current_tid();
    while (word.load() == 0) wait_on_address(word, 0, kForever);
    done = true;
  });
  // Until the waiter sleeps in the kernel (in the wait, or about to be: either way the
  // wake must release it).
  weft::testing::poll_until([&] { return tid.load() != 0; });
  EXPECT_TRUE(weft::testing::wait_until_asleep(tid.load()));
  word.store(1);
  wake_by_address(word, false);
  waiter.join();
  EXPECT_TRUE(done);
}

TEST(Wait, WakeAllReleasesEveryWaiter) {
  std::atomic<std::uint32_t> word{0};
  std::atomic<int> done{0};
  std::atomic<long> tids[4] = {};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] {
      tids[i] = weft::testing::current_tid();
      while (word.load() == 0) wait_on_address(word, 0, kForever);
      ++done;
    });
  }
  for (auto& tid : tids) {
    weft::testing::poll_until([&] { return tid.load() != 0; });
    EXPECT_TRUE(weft::testing::wait_until_asleep(tid.load()));
  }
  word.store(1);
  wake_by_address(word, true);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(done, 4);
}

}  // namespace
