// SPDX-License-Identifier: Apache-2.0
// L1 parking lot: park/unpark/requeue, FIFO order, timeouts, validation, bucket sharing,
// and the race between a timeout and an unpark.
#include "weft/detail/parking_lot.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "support/blocking.hpp"

namespace {

using namespace std::chrono_literals;
using weft::detail::Clock;
using weft::detail::kForever;
using weft::detail::ObjKind;
using weft::detail::park;
using weft::detail::ParkStatus;
using weft::detail::WaitSite;

const WaitSite kLotSite{nullptr, ObjKind::other, weft::detail::SourceLoc::current()};

using weft::testing::wait_until_parked_on;

TEST(ParkingLot, InvalidParkNeverSleeps) {
  int key = 0;
  const auto r = park(&key, [] { return false; }, kForever, kLotSite);
  EXPECT_EQ(r.status, ParkStatus::kInvalid);
}

TEST(ParkingLot, TimesOutAfterDeadline) {
  int key = 0;
  bool timed_out_called = false;
  bool last = false;
  const auto deadline = Clock::now() + 10ms;
  const auto r = park(
      &key, [] { return true; }, [] {},
      [&](const void* k, bool was_last) {
        EXPECT_EQ(k, &key);
        timed_out_called = true;
        last = was_last;
      },
      deadline, kLotSite);
  EXPECT_EQ(r.status, ParkStatus::kTimedOut);
  EXPECT_GE(Clock::now(), deadline);
  EXPECT_TRUE(timed_out_called);
  EXPECT_TRUE(last);
  EXPECT_FALSE(weft::detail::unpark_one(&key)) << "a timed-out thread stays queued";
}

TEST(ParkingLot, UnparkOneDeliversTokenAndBlocksUntilThen) {
  int key = 0;
  weft::detail::ParkResult r{};
  weft::testing::expect_blocks_until(
      [&] {
        r = park(&key, [] { return true; }, [] {}, [](const void*, bool) {}, kForever, kLotSite);
      },
      [&] {
        weft::detail::unpark_one(&key, [](weft::detail::UnparkResult u) -> weft::detail::ParkToken {
          EXPECT_EQ(u.unparked, 1u);
          EXPECT_FALSE(u.have_more);
          return 42;
        });
      });
  EXPECT_EQ(r.status, ParkStatus::kUnparked);
  EXPECT_EQ(r.token, 42u);
}

TEST(ParkingLot, UnparkWithNobodyParkedStillRunsCallback) {
  int key = 0;
  bool called = false;
  const auto u = weft::detail::unpark_one(&key, [&](weft::detail::UnparkResult res) {
    called = true;
    EXPECT_EQ(res.unparked, 0u);
    return weft::detail::ParkToken{0};
  });
  EXPECT_TRUE(called);
  EXPECT_EQ(u.unparked, 0u);
}

TEST(ParkingLot, UnparkOneIsFifo) {
  int key = 0;
  constexpr int kThreads = 4;
  std::vector<int> order;
  std::mutex order_mutex;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    // Park one at a time, in order.
    EXPECT_TRUE(wait_until_parked_on(&key, static_cast<std::size_t>(i)));
    threads.emplace_back([&, i] {
      park(&key, [] { return true; }, kForever, kLotSite);
      std::lock_guard<std::mutex> g(order_mutex);
      order.push_back(i);
    });
  }
  EXPECT_TRUE(wait_until_parked_on(&key, kThreads));
  for (int i = 0; i < kThreads; ++i) {
    // Wake one, then wait until it has recorded itself before waking the next.
    const bool woke = weft::detail::unpark_one(&key);
    EXPECT_TRUE(woke);
    if (!woke) {  // fail without leaving joinable threads parked
      weft::detail::unpark_all(&key);
      break;
    }
    for (;;) {
      std::lock_guard<std::mutex> g(order_mutex);
      if (order.size() == static_cast<std::size_t>(i + 1)) break;
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(ParkingLot, UnparkAllAndUnparkN) {
  int key = 0;
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&] {
      park(&key, [] { return true; }, kForever, kLotSite);
      ++woken;
    });
  }
  EXPECT_TRUE(wait_until_parked_on(&key, 5));
  EXPECT_EQ(weft::detail::unpark_n(&key, 2), 2u);
  EXPECT_EQ(weft::detail::unpark_all(&key), 3u);
  for (auto& t : threads) t.join();
  EXPECT_EQ(woken, 5);
}

TEST(ParkingLot, UnparkAllParkedWithWakesOnlyThatParkToken) {
  // Event's wake-up: only the threads parked with the given park token are woken, each
  // with the unpark token; the others stay parked.
  int key = 0;
  constexpr int kThreads = 4;
  std::array<weft::detail::ParkResult, kThreads> results{};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[static_cast<std::size_t>(i)] =
          park(&key, [] { return true; }, [] {}, [](const void*, bool) {}, kForever, kLotSite,
               /*park_token=*/static_cast<weft::detail::ParkToken>(i % 2));
    });
  }
  EXPECT_TRUE(wait_until_parked_on(&key, kThreads));
  EXPECT_EQ(weft::detail::unpark_all_parked_with(&key, 0, 7), 2u);
  EXPECT_EQ(weft::detail::unpark_all_parked_with(&key, 0, 7), 0u);
  EXPECT_EQ(weft::detail::unpark_all_parked_with(&key, 1, 9), 2u);
  weft::detail::unpark_all(&key);  // on failure: no thread left parked
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    const auto& r = results[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.status, ParkStatus::kUnparked) << "thread " << i;
    EXPECT_EQ(r.token, i % 2 == 0 ? 7u : 9u) << "thread " << i;
  }
}

TEST(ParkingLot, KeysSharingABucketAreKeptApart) {
  // Many keys in one array: some certainly share buckets. Waking one key must not
  // wake threads parked on another.
  std::array<int, 64> keys{};
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  for (auto& k : keys) {
    threads.emplace_back([&, key = &k] {
      park(key, [] { return true; }, kForever, kLotSite);
      ++woken;
    });
  }
  for (auto& k : keys) EXPECT_TRUE(wait_until_parked_on(&k, 1));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(weft::detail::unpark_all(&keys[i]), 1u) << "key " << i;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(woken, 64);
}

TEST(ParkingLot, RequeueMovesWaitersToAnotherKey) {
  int from = 0, to = 0;
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      park(&from, [] { return true; }, kForever, kLotSite);
      ++woken;
    });
  }
  EXPECT_TRUE(wait_until_parked_on(&from, 3));
  const auto r = weft::detail::unpark_requeue(
      &from, &to, [] { return weft::detail::RequeueOp::kUnparkOneRequeueRest; },
      [](weft::detail::RequeueOp, weft::detail::UnparkResult res) {
        EXPECT_EQ(res.unparked, 1u);
        EXPECT_TRUE(res.have_more);
        return weft::detail::ParkToken{0};
      });
  EXPECT_EQ(r.unparked, 1u);
  EXPECT_TRUE(wait_until_parked_on(&to, 2));
  EXPECT_EQ(weft::detail::unpark_all(&from), 0u);
  EXPECT_EQ(weft::detail::unpark_all(&to), 2u);
  for (auto& t : threads) t.join();
  EXPECT_EQ(woken, 3);
}

TEST(ParkingLot, TimeoutRacingUnparkLosesNothing) {
  // Each round: a thread parks with a very short deadline while another unparks. Either
  // the parker was unparked (and the unparker saw it), or it timed out (and the unparker
  // found nobody): never both, never neither.
  int key = 0;
  for (int round = 0; round < 2000; ++round) {
    std::atomic<bool> parked{false};
    ParkStatus status{};
    std::thread parker([&] {
      status = park(
                   &key, [&] { parked = true; return true; }, [] {},
                   [](const void*, bool) {}, Clock::now() + std::chrono::microseconds(round % 50),
                   kLotSite)
                   .status;
    });
    while (!parked) std::this_thread::yield();
    const bool unparked = weft::detail::unpark_one(&key);
    parker.join();
    ASSERT_EQ(unparked, status == ParkStatus::kUnparked) << "round " << round;
  }
}

}  // namespace
