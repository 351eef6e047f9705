// SPDX-License-Identifier: Apache-2.0
// Python's futures idioms: a Future is hashable and ordered by identity (a key of
// std::unordered_map / std::map / std::set, as in {executor.submit(fetch, url): url});
// wait() and as_completed() take any range of futures and any duration as timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <list>
#include <map>
#include <optional>
#include <ranges>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "support/settled_futures.hpp"
#include "weft/errors.hpp"
#include "weft/event.hpp"
#include "weft/futures.hpp"

// clang 14 cannot compile libstdc++ 12's views over a container (ref_view), whatever
// the element type; the tests that need std::views::keys / filter are skipped there.
#if defined(__clang__) && __clang_major__ < 15
#define WEFT_TEST_HAS_CONTAINER_VIEWS 0
#else
#define WEFT_TEST_HAS_CONTAINER_VIEWS 1
#endif

namespace {

using namespace std::chrono_literals;
using weft::Future;
using weft::ReturnWhen;
using weft::testing::finished;

template <class Fs>
std::multiset<int> results_of(Fs&& fs) {
  std::multiset<int> out;
  for (auto f : fs) out.insert(f.result());
  return out;
}

// ---- identity: ==, <=>, std::hash ----

TEST(FutureIdentity, CopiesAreTheSameFuture) {
  Future<int> a, b;
  Future<int> a2 = a;
  EXPECT_EQ(a, a2);
  EXPECT_NE(a, b);
  EXPECT_EQ(a <=> a2, std::strong_ordering::equal);
  EXPECT_NE(a <=> b, std::strong_ordering::equal);
  EXPECT_TRUE((a < b) != (b < a));  // a strict total order
  EXPECT_EQ(std::hash<Future<int>>{}(a), std::hash<Future<int>>{}(a2));
  a.set_result(1);  // identity does not change when the future completes
  EXPECT_EQ(a, a2);
  EXPECT_EQ(std::hash<Future<int>>{}(a), std::hash<Future<int>>{}(a2));
}

TEST(FutureIdentity, KeyOfUnorderedMapMapAndSets) {
  std::vector<Future<int>> fs(50);
  std::unordered_map<Future<int>, int> by_hash;
  std::map<Future<int>, int> by_order;
  std::unordered_set<Future<void>> void_set{Future<void>(), Future<void>()};
  for (int i = 0; i < 50; ++i) {
    by_hash.emplace(fs[i], i);
    by_order.emplace(fs[i], i);
  }
  EXPECT_EQ(by_hash.size(), 50u);
  EXPECT_EQ(by_order.size(), 50u);
  EXPECT_EQ(void_set.size(), 2u);
  for (int i = 0; i < 50; ++i) {
    Future<int> copy = fs[i];  // another handle finds the same entry
    EXPECT_EQ(by_hash.at(copy), i);
    EXPECT_EQ(by_order.at(copy), i);
  }
}

// The Python idiom: futures = {executor.submit(fetch, url): url for url in urls}
//                   for future in as_completed(futures): url = futures[future] ...
TEST(FutureIdentity, DictOfFuturesWithAsCompleted) {
  const std::vector<std::string> urls{"a.example", "bb.example", "ccc.example", "dddd.example"};
  weft::ThreadPoolExecutor pool(3);
  auto fetch = [](const std::string& url) { return url.size(); };
  std::unordered_map<Future<std::size_t>, std::string> futures;
  for (const auto& url : urls) futures.emplace(pool.submit(fetch, url), url);
  std::set<std::string> seen;
#if WEFT_TEST_HAS_CONTAINER_VIEWS
  for (auto& f : weft::as_completed(std::views::keys(futures), 60s)) {
#else
  std::vector<Future<std::size_t>> keys;
  for (const auto& kv : futures) keys.push_back(kv.first);
  for (auto& f : weft::as_completed(keys, 60s)) {
#endif
    const std::string& url = futures.at(f);  // the yielded handle finds its url
    EXPECT_EQ(f.result(), url.size());
    seen.insert(url);
  }
  EXPECT_EQ(seen, std::set<std::string>(urls.begin(), urls.end()));
}

// ---- wait() and as_completed() over any range ----

TEST(FutureRanges, WaitAndAsCompletedOverStandardContainers) {
  Future<int> a = finished(1), b = finished(2), c = finished(3);
  const std::vector<Future<int>> vec{a, b, c};
  const std::list<Future<int>> list{a, b, c};
  const std::set<Future<int>> set{a, b, c};
  const std::map<Future<int>, std::string> map{{a, "a"}, {b, "b"}, {c, "c"}};
  const std::multiset<int> all{1, 2, 3};

  EXPECT_EQ(results_of(weft::wait(vec).done), all);
  EXPECT_EQ(results_of(weft::wait(list).done), all);
  EXPECT_EQ(results_of(weft::wait(set).done), all);
  EXPECT_EQ(results_of(weft::wait(std::span(vec)).done), all);
  EXPECT_EQ(results_of(weft::wait({a, b, c}).done), all);
  EXPECT_EQ(results_of(weft::wait(std::vector{a, b, c}).done), all);  // an rvalue range

  EXPECT_EQ(results_of(weft::as_completed(vec)), all);
  EXPECT_EQ(results_of(weft::as_completed(list)), all);
  EXPECT_EQ(results_of(weft::as_completed(set)), all);
  EXPECT_EQ(results_of(weft::as_completed(std::span(vec))), all);
  EXPECT_EQ(results_of(weft::as_completed({a, b, c})), all);
#if WEFT_TEST_HAS_CONTAINER_VIEWS
  EXPECT_EQ(results_of(weft::wait(std::views::keys(map)).done), all);
  EXPECT_EQ(results_of(weft::as_completed(std::views::keys(map))), all);
  // A view that can be iterated only when non-const (filter caches its begin()).
  auto odd = vec | std::views::filter([](Future<int> f) { return f.result() % 2 == 1; });
  EXPECT_EQ(results_of(weft::wait(odd).done), (std::multiset<int>{1, 3}));
  auto odd_again = vec | std::views::filter([](Future<int> f) { return f.result() % 2 == 1; });
  EXPECT_EQ(results_of(weft::as_completed(odd_again)), (std::multiset<int>{1, 3}));
#else
  EXPECT_EQ(map.size(), 3u);
#endif
}

TEST(FutureRanges, WaitOverAListSplitsDoneAndNotDone) {
  Future<int> pending;
  Future<int> done = finished(7);
  const std::list<Future<int>> fs{pending, done, pending};  // duplicates reported once
  auto r = weft::wait(fs, std::nullopt, ReturnWhen::FIRST_COMPLETED);
  ASSERT_EQ(r.done.size(), 1u);
  ASSERT_EQ(r.not_done.size(), 1u);
  EXPECT_EQ(r.done[0], done);
  EXPECT_EQ(r.not_done[0], pending);
}

TEST(FutureRanges, AsCompletedOverASetBlocksUntilEachCompletes) {
  Future<int> a, b;
  const std::set<Future<int>> fs{a, b};
  weft::Event first_seen;
  weft::ThreadPoolExecutor pool(1);
  // Completes a, then (after the iteration has seen a) b: the range yields both in
  // completion order, blocking between them.
  auto driver = pool.submit([&] {
    a.set_result(1);
    if (!first_seen.wait(60s)) throw std::runtime_error("iteration never saw a");
    b.set_result(2);
  });
  std::vector<int> order;
  for (auto& f : weft::as_completed(fs, 60s)) {
    order.push_back(f.result());
    first_seen.set();
  }
  driver.result();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(FutureRanges, MovedFromFutureIsRejected) {
  Future<int> a = finished(1);
  Future<int> gone = a;
  Future<int> taker = std::move(gone);  // `gone` is now moved-from
  const std::vector<Future<int>> fs{a, gone};
  EXPECT_THROW(weft::wait(fs), weft::RuntimeError);
  EXPECT_THROW(weft::as_completed(fs), weft::RuntimeError);
}

// ---- timeouts: any duration, an optional of one, nullopt, {} ----

TEST(FutureTimeouts, FloatingPointDurationsCompileAndWork) {
  Future<int> done = finished(1);
  Future<int> pending;
  const std::vector<Future<int>> fs{done, pending};
  // Timeouts that expire: the not-done future is reported, nothing throws.
  auto r1 = weft::wait(fs, 0.05s);  // std::chrono::duration<long double>
  EXPECT_EQ(r1.not_done.size(), 1u);
  auto r2 = weft::wait(fs, std::chrono::duration<double>(0.01), ReturnWhen::ALL_COMPLETED);
  EXPECT_EQ(r2.not_done.size(), 1u);
  auto r3 = weft::wait(fs, -1.5s);  // negative: a check
  EXPECT_EQ(r3.done.size(), 1u);
  auto r4 = weft::wait({done, pending}, 0.01s, ReturnWhen::ALL_COMPLETED);
  EXPECT_EQ(r4.not_done.size(), 1u);
  // as_completed yields the done one, then runs out of time.
  std::vector<int> got;
  EXPECT_THROW(
      {
        for (auto& f : weft::as_completed(fs, 0.05s)) got.push_back(f.result());
      },
      weft::TimeoutError);
  EXPECT_EQ(got, std::vector<int>{1});
  // A long floating-point timeout on futures already done returns at once.
  EXPECT_EQ(results_of(weft::as_completed(std::vector{done}, 2.5s)), std::multiset<int>{1});
  EXPECT_EQ(weft::wait(std::vector{done}, 2.5s).done.size(), 1u);
}

TEST(FutureTimeouts, OptionalNulloptAndBracesMeanNoTimeout) {
  Future<int> done = finished(1);
  const std::vector<Future<int>> fs{done};
  const std::optional<std::chrono::duration<double>> none;
  const std::optional<std::chrono::milliseconds> some = 50ms;
  EXPECT_EQ(weft::wait(fs, none).done.size(), 1u);
  EXPECT_EQ(weft::wait(fs, some).done.size(), 1u);
  EXPECT_EQ(weft::wait(fs, std::nullopt, ReturnWhen::FIRST_COMPLETED).done.size(), 1u);
  EXPECT_EQ(weft::wait(fs, {}, ReturnWhen::FIRST_EXCEPTION).done.size(), 1u);
  const std::optional<std::chrono::nanoseconds> api_form = std::chrono::seconds(1);
  EXPECT_EQ(weft::wait(fs, api_form, ReturnWhen::ALL_COMPLETED).done.size(), 1u);
  EXPECT_EQ(results_of(weft::as_completed(fs, none)), std::multiset<int>{1});
  EXPECT_EQ(results_of(weft::as_completed(fs, std::nullopt)), std::multiset<int>{1});
  EXPECT_EQ(results_of(weft::as_completed(fs, {})), std::multiset<int>{1});

  Future<int> pending;
  const std::optional<std::chrono::duration<double>> short_wait = std::chrono::duration<double>(0.01);
  EXPECT_EQ(weft::wait(std::vector{pending}, short_wait).not_done.size(), 1u);
}

}  // namespace
