// SPDX-License-Identifier: Apache-2.0
// wait() and as_completed(): ports, in our own words, the WaitTests and
// AsCompletedTests of CPython's test_concurrent_futures, plus "cancelled counts as done".
// Timeouts run in virtual time (weft::testing::run): they wait exactly their length;
// one wait() timeout also runs on the real clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "support/blocking.hpp"
#include "support/settled_futures.hpp"
#include "weft/futures.hpp"
#include "weft/testing.hpp"

namespace {

using namespace std::chrono_literals;
using weft::Future;
using weft::ReturnWhen;
using weft::testing::cancelled;
using weft::testing::failed;
using weft::testing::finished;

bool contains(const std::vector<Future<int>>& v, const Future<int>& f) {
  return std::find(v.begin(), v.end(), f) != v.end();
}

TEST(Wait, FirstCompletedReturnsAtOnceWhenOneIsDone) {
  Future<int> pending;
  Future<int> done = finished(1);
  auto r = weft::wait(std::vector{pending, done}, std::nullopt, ReturnWhen::FIRST_COMPLETED);
  EXPECT_EQ(r.done.size(), 1u);
  EXPECT_TRUE(contains(r.done, done));
  EXPECT_TRUE(contains(r.not_done, pending));
}

TEST(Wait, FirstCompletedBlocksUntilOneCompletes) {
  Future<int> a, b;
  auto r = weft::testing::expect_blocks_until(
      [&] { return weft::wait(std::vector{a, b}, std::nullopt, ReturnWhen::FIRST_COMPLETED); },
      [&] { b.set_result(2); });
  EXPECT_EQ(r.done.size(), 1u);
  EXPECT_TRUE(contains(r.done, b));
  EXPECT_TRUE(contains(r.not_done, a));
}

TEST(Wait, FirstExceptionReturnsOnAnException) {
  Future<int> ok = finished(1), pending;
  Future<int> bad;
  auto r = weft::testing::expect_blocks_until(
      [&] {
        return weft::wait(std::vector{ok, pending, bad}, std::nullopt, ReturnWhen::FIRST_EXCEPTION);
      },
      [&] { bad.set_exception(std::make_exception_ptr(std::logic_error("x"))); });
  EXPECT_EQ(r.done.size(), 2u);
  EXPECT_TRUE(contains(r.done, bad));
  EXPECT_TRUE(contains(r.not_done, pending));
}

TEST(Wait, FirstExceptionAlreadyFailed) {
  Future<int> pending;
  auto r = weft::wait(std::vector{pending, failed()}, 5s, ReturnWhen::FIRST_EXCEPTION);
  EXPECT_EQ(r.done.size(), 1u);
  EXPECT_EQ(r.not_done.size(), 1u);
}

TEST(Wait, FirstExceptionWithoutExceptionsActsAsAllCompleted) {
  std::vector fs{finished(1), finished(2), cancelled()};
  auto r = weft::wait(fs, std::nullopt, ReturnWhen::FIRST_EXCEPTION);
  EXPECT_EQ(r.done.size(), 3u);
  EXPECT_TRUE(r.not_done.empty());
}

TEST(Wait, AllCompletedWaitsForEveryFuture) {
  Future<int> a, b;
  a.set_result(1);
  auto r = weft::testing::expect_blocks_until([&] { return weft::wait(std::vector{a, b}); },
                                              [&] { b.set_result(2); });
  EXPECT_EQ(r.done.size(), 2u);
  EXPECT_TRUE(r.not_done.empty());
}

TEST(Wait, CancelledFuturesCountAsDone) {
  Future<int> a = cancelled(), b;
  auto r = weft::wait(std::vector{a, b}, std::nullopt, ReturnWhen::FIRST_COMPLETED);
  EXPECT_TRUE(contains(r.done, a));
  // ALL_COMPLETED finishes when the last pending one is cancelled (CPython can hang here).
  auto all = weft::testing::expect_blocks_until([&] { return weft::wait(std::vector{a, b}); },
                                                [&] { b.cancel(); });
  EXPECT_EQ(all.done.size(), 2u);
}

TEST(Wait, TimeoutReturnsWhatIsLeftAfterWaitingExactlyTheTimeout) {
  weft::testing::run([] {
    Future<int> pending;
    Future<int> done = finished(1);
    const auto start = weft::clock::now();
    auto r = weft::wait(std::vector{pending, done}, 30ms);
    EXPECT_EQ(weft::clock::now() - start, 30ms);
    EXPECT_EQ(r.done.size(), 1u);
    EXPECT_TRUE(contains(r.not_done, pending));
    auto zero = weft::wait(std::vector{pending}, 0ms);
    EXPECT_EQ(zero.not_done.size(), 1u);
    EXPECT_EQ(weft::clock::now() - start, 30ms);
  });
}

TEST(Wait, TimeoutOnTheRealClockWaitsAtLeastTheTimeout) {
  Future<int> pending;
  Future<int> done = finished(1);
  const auto start = std::chrono::steady_clock::now();
  auto r = weft::wait(std::vector{pending, done}, 30ms);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_EQ(r.done.size(), 1u);
  EXPECT_TRUE(contains(r.not_done, pending));
  auto zero = weft::wait(std::vector{pending}, 0ms);
  EXPECT_EQ(zero.not_done.size(), 1u);
}

TEST(Wait, EmptyAndDuplicates) {
  auto r = weft::wait(std::vector<Future<int>>{});
  EXPECT_TRUE(r.done.empty());
  EXPECT_TRUE(r.not_done.empty());
  Future<int> f = finished(3);
  auto d = weft::wait(std::vector{f, f, f});
  EXPECT_EQ(d.done.size(), 1u);
}

TEST(Wait, WorksWithExecutorFutures) {
  weft::ThreadPoolExecutor pool(4);
  std::vector<Future<int>> fs;
  for (int i = 0; i < 50; ++i) fs.push_back(pool.submit([](int x) { return x; }, i));
  auto r = weft::wait(fs);
  EXPECT_EQ(r.done.size(), 50u);
  for (auto& f : r.done) EXPECT_TRUE(f.done());
}

TEST(AsCompleted, YieldsAlreadyDoneFirstThenInCompletionOrder) {
  Future<int> a, b, c = finished(3);
  std::vector<int> order;
  auto range = weft::as_completed(std::vector{a, b, c});
  auto it = range.begin();
  order.push_back(it->result());
  weft::testing::expect_blocks_until([&] { ++it; }, [&] { b.set_result(2); });
  order.push_back(it->result());
  weft::testing::expect_blocks_until([&] { ++it; }, [&] { a.set_result(1); });
  order.push_back(it->result());
  ++it;
  EXPECT_TRUE(it == range.end());
  EXPECT_EQ(order, (std::vector<int>{3, 2, 1}));
}

TEST(AsCompleted, RangeForOverExecutorFutures) {
  weft::ThreadPoolExecutor pool(3);
  std::vector<Future<int>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(pool.submit([](int x) { return x * 2; }, i));
  int sum = 0, n = 0;
  for (auto& f : weft::as_completed(fs)) {
    EXPECT_TRUE(f.done());
    sum += f.result();
    ++n;
  }
  EXPECT_EQ(n, 20);
  EXPECT_EQ(sum, 380);
}

TEST(AsCompleted, DuplicatesYieldedOnce) {
  Future<int> f = finished(1);
  int n = 0;
  for (auto& g : weft::as_completed(std::vector{f, f})) {
    EXPECT_EQ(g.result(), 1);
    ++n;
  }
  EXPECT_EQ(n, 1);
}

TEST(AsCompleted, CancelledCountsAsCompleted) {
  Future<int> a, b = cancelled();
  auto range = weft::as_completed(std::vector{a, b});
  auto it = range.begin();
  EXPECT_TRUE(it->cancelled());
  weft::testing::expect_blocks_until([&] { ++it; }, [&] { a.cancel(); });
  EXPECT_TRUE(it->cancelled());
  ++it;
  EXPECT_TRUE(it == range.end());
}

TEST(AsCompleted, TimeoutErrorAfterYieldingTheDoneOnes) {
  weft::testing::run([] {
    Future<int> pending, done = finished(5);
    const auto start = weft::clock::now();
    int seen = 0;
    try {
      for (auto& f : weft::as_completed(std::vector{pending, done}, 30ms)) {
        EXPECT_EQ(f.result(), 5);
        ++seen;
      }
      ADD_FAILURE() << "no TimeoutError";
    } catch (const weft::TimeoutError& e) {
      EXPECT_STREQ(e.what(), "1 (of 2) futures unfinished");
    }
    EXPECT_EQ(seen, 1);
    EXPECT_EQ(weft::clock::now() - start, 30ms);
  });
}

TEST(AsCompleted, ZeroTimeoutWithEverythingDone) {
  int n = 0;
  for (auto& f : weft::as_completed(std::vector{finished(1), finished(2)}, 0ms)) {
    (void)f;
    ++n;
  }
  EXPECT_EQ(n, 2);
}

TEST(AsCompleted, DroppingTheRangeEarlyIsSafe) {
  Future<int> a, b;
  {
    auto range = weft::as_completed(std::vector{a, b});
    (void)range;
  }
  a.set_result(1);  // the listener is gone: nothing may touch it
  b.set_result(2);
  EXPECT_TRUE(a.done());
}

}  // namespace
