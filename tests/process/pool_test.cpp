// SPDX-License-Identifier: Apache-2.0
// Pool: the multiprocessing.Pool facade (map, starmap, imap, imap_unordered with
// chunksize, apply, apply_async, close/join/terminate).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "weft/process.hpp"

namespace {

int cube(int x) { return x * x * x; }
std::string label(std::string s, int n) { return s + "#" + std::to_string(n); }
int fails_on_five(int x) {
  if (x == 5) throw std::out_of_range("five");
  return x;
}

std::vector<int> iota(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(Pool, MapKeepsOrderForEveryChunkSize) {
  weft::Pool pool(2);
  const auto in = iota(37);
  std::vector<int> want;
  for (int x : in) want.push_back(cube(x));
  for (std::size_t chunksize : {0u, 1u, 3u, 10u, 100u}) {
    EXPECT_EQ(pool.map(cube, in, chunksize), want) << "chunksize " << chunksize;
  }
  EXPECT_TRUE(pool.map(cube, std::vector<int>{}).empty());
}

TEST(Pool, Starmap) {
  weft::Pool pool(2);
  std::vector<std::pair<std::string, int>> in{{"a", 1}, {"b", 2}, {"c", 3}};
  EXPECT_EQ(pool.starmap(label, in, 2), (std::vector<std::string>{"a#1", "b#2", "c#3"}));
}

TEST(Pool, ImapIsOrderedAndImapUnorderedHasEverything) {
  weft::Pool pool(2);
  const auto in = iota(25);
  std::vector<int> ordered;
  for (int y : pool.imap(cube, in, 4)) ordered.push_back(y);
  std::vector<int> want;
  for (int x : in) want.push_back(cube(x));
  EXPECT_EQ(ordered, want);
  std::vector<int> unordered;
  for (int y : pool.imap_unordered(cube, in, 3)) unordered.push_back(y);
  std::sort(unordered.begin(), unordered.end());
  EXPECT_EQ(unordered, want);
}

TEST(Pool, ApplyAndApplyAsync) {
  weft::Pool pool(1);
  EXPECT_EQ(pool.apply(cube, 3), 27);
  auto f = pool.apply_async(label, "x", 9);
  EXPECT_EQ(f.result(), "x#9");
}

TEST(Pool, MapRethrowsTheTaskError) {
  weft::Pool pool(2);
  EXPECT_THROW(pool.map(fails_on_five, iota(10), 2), weft::RemoteError);
  // The pool still works.
  EXPECT_EQ(pool.apply(cube, 2), 8);
}

TEST(Pool, CloseThenJoin) {
  weft::Pool pool(2);
  auto f = pool.apply_async(cube, 4);
  pool.close();
  EXPECT_THROW(pool.apply(cube, 1), weft::RuntimeError);
  pool.join();
  EXPECT_EQ(f.result(), 64);
}

}  // namespace

namespace {
TEST(Pool, NegativeCountsAreValueErrors) {
  EXPECT_THROW(weft::Pool(-1), weft::ValueError);
  EXPECT_THROW(weft::Pool(2, nullptr, -1), weft::ValueError);
  weft::Pool pool(1, nullptr, 3);
  EXPECT_EQ(pool.apply(cube, 2), 8);
}

TEST(Pool, CapturelessLambdas) {
  weft::Pool pool(2);
  EXPECT_EQ(pool.map([](int x) { return x + 1; }, iota(4), 2), (std::vector<int>{1, 2, 3, 4}));
  std::vector<std::pair<int, int>> pairs{{1, 2}, {3, 4}};
  EXPECT_EQ(pool.starmap([](int a, int b) { return a * b; }, pairs), (std::vector<int>{2, 12}));
  std::vector<int> got;
  for (int y : pool.imap([](int x) { return 2 * x; }, iota(3))) got.push_back(y);
  EXPECT_EQ(got, (std::vector<int>{0, 2, 4}));
  got.clear();
  for (int y : pool.imap_unordered([](int x) { return 3 * x; }, iota(3))) got.push_back(y);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{0, 3, 6}));
  EXPECT_EQ(pool.apply([](int x) { return x - 1; }, 10), 9);
  EXPECT_EQ(pool.apply_async([](std::string s) { return s.size(); }, std::string("four")).result(), 4u);
}
}  // namespace
