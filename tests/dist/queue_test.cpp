// SPDX-License-Identifier: Apache-2.0
// dist::Queue on a private redis-server: weft::Queue's forms and exceptions across handles.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "redis_server.hpp"
#include "weft/dist.hpp"

namespace {

using namespace std::chrono_literals;
using weft::dist::Queue;

struct Point {
  int x;
  double y;
};

TEST(DistQueue, FifoAcrossHandles) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Queue<int> producer(server.url("fifo"));
  Queue<int> consumer(server.url("fifo"));
  for (int i = 0; i < 100; ++i) producer.put(i);
  EXPECT_EQ(consumer.qsize(), 100u);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(consumer.get(), i);
  EXPECT_TRUE(consumer.empty());
}

TEST(DistQueue, WireTypes) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Queue<std::string> s(server.url("s"));
  s.put(std::string("hello\0world", 11));
  EXPECT_EQ(s.get(), std::string("hello\0world", 11));
  Queue<std::vector<int>> v(server.url("v"));
  v.put({1, 2, 3});
  EXPECT_EQ(v.get(), (std::vector<int>{1, 2, 3}));
  Queue<Point> p(server.url("p"));
  p.put(Point{3, 0.5});
  const Point got = p.get();
  EXPECT_EQ(got.x, 3);
  EXPECT_EQ(got.y, 0.5);
}

TEST(DistQueue, EmptyAndFullForms) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Queue<int> q(server.url("bounded"), 2);
  EXPECT_THROW(q.get_nowait(), weft::Empty);
  EXPECT_THROW(q.get(false), weft::Empty);
  EXPECT_THROW(q.get(20ms), weft::Empty);
  EXPECT_THROW(q.get(-1s), weft::Empty);
  EXPECT_FALSE(q.try_get().has_value());
  EXPECT_FALSE(q.try_get(10ms).has_value());
  q.put(1);
  q.put_nowait(2);
  EXPECT_TRUE(q.full());
  EXPECT_THROW(q.put_nowait(3), weft::Full);
  EXPECT_THROW(q.put(3, false), weft::Full);
  EXPECT_THROW(q.put(3, 20ms), weft::Full);
  int three = 3;
  EXPECT_FALSE(q.try_put(three));
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_EQ(q.maxsize(), 2u);
  EXPECT_EQ(q.try_get(), std::optional<int>(1));
  EXPECT_TRUE(q.try_put(three));
  EXPECT_EQ(q.get(), 2);
  EXPECT_EQ(q.get(), 3);
}

// The bound holds under racing putters in different handles (one server-side script).
TEST(DistQueue, BoundIsAtomicAcrossHandles) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  constexpr int kThreads = 4, kEach = 25, kMax = 10;
  std::atomic<int> accepted{0};
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Queue<int> q(server.url("race"), kMax);
      go.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        int item = t * 100 + i;
        if (q.try_put(item)) accepted.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  Queue<int> q(server.url("race"), kMax);
  EXPECT_EQ(accepted.load(), kMax);
  EXPECT_EQ(q.qsize(), static_cast<std::size_t>(kMax));
}

TEST(DistQueue, BlockedPutProceedsWhenRoomAppears) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Queue<int> q(server.url("room"), 1);
  q.put(1);
  std::thread putter([&] {
    Queue<int> other(server.url("room"), 1);
    other.put(2);  // blocks until the get below
  });
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get(), 2);  // only there once the blocked put went in
  putter.join();
}

TEST(DistQueue, BlockingGetReturnsAnItemPutLater) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Queue<int> q(server.url("later"));
  std::atomic<int> got{-1};
  std::thread getter([&] {
    Queue<int> other(server.url("later"));
    got = other.get();
  });
  q.put(42);
  getter.join();
  EXPECT_EQ(got.load(), 42);
}

TEST(DistQueue, TaskDoneAndJoinCountByItem) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Queue<int> producer(server.url("join"));
  Queue<int> consumer(server.url("join"));
  for (int i = 0; i < 3; ++i) producer.put(i);
  EXPECT_FALSE(producer.join(0s));
  EXPECT_THROW(consumer.task_done(), weft::ValueError);  // got nothing yet
  for (int i = 0; i < 3; ++i) consumer.get();
  consumer.task_done();
  consumer.task_done();
  EXPECT_FALSE(producer.join(10ms));
  std::thread joiner([&] { producer.join(); });
  consumer.task_done();
  joiner.join();
  EXPECT_TRUE(producer.join(0s));
  EXPECT_THROW(consumer.task_done(), weft::ValueError);
}

TEST(DistQueue, ShutdownImmediateReturnsTheDrainedItems) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Queue<int> q(server.url("drain"));
  Queue<int> other(server.url("drain"));
  for (int i = 1; i <= 3; ++i) q.put(i);
  EXPECT_EQ(other.shutdown(true), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(q.is_shutdown());
  EXPECT_THROW(q.put(4), weft::ShutDown);
  EXPECT_THROW(q.get(), weft::ShutDown);
  EXPECT_THROW(q.get_nowait(), weft::ShutDown);
  EXPECT_TRUE(q.join(0s));  // drained items count as done
}

TEST(DistQueue, ShutdownLetsGettersDrainThenThrows) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Queue<int> q(server.url("graceful"));
  q.put(1);
  q.put(2);
  EXPECT_TRUE(q.shutdown().empty());
  EXPECT_THROW(q.put(3), weft::ShutDown);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get(), 2);
  EXPECT_THROW(q.get(), weft::ShutDown);
  EXPECT_FALSE(q.try_get().has_value());
}

// Getters blocked in other handles wake with ShutDown (the wake token is passed on).
TEST(DistQueue, ShutdownWakesEveryBlockedGetter) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  constexpr int kGetters = 3;
  std::atomic<int> shut{0};
  std::vector<std::thread> getters;
  for (int i = 0; i < kGetters; ++i) {
    getters.emplace_back([&] {
      Queue<int> q(server.url("wake", 60000));  // slices of 60 s: only the token wakes them
      try {
        q.get();
      } catch (const weft::ShutDown&) {
        shut.fetch_add(1);
      }
    });
  }
  Queue<int> q(server.url("wake"));
  q.shutdown();
  for (auto& t : getters) t.join();
  EXPECT_EQ(shut.load(), kGetters);
}

TEST(DistQueue, PutManyGetMany) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  Queue<int> q(server.url("batch"));
  std::vector<int> xs(1500);
  for (int i = 0; i < 1500; ++i) xs[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(q.put_many(std::span<const int>(xs)), xs.size());
  std::vector<int> got;
  while (got.size() < xs.size()) {
    auto part = q.get_many(400);
    ASSERT_FALSE(part.empty());
    ASSERT_LE(part.size(), 400u);
    got.insert(got.end(), part.begin(), part.end());
  }
  EXPECT_EQ(got, xs);
  EXPECT_TRUE(q.get_many(10, 10ms).empty());
  EXPECT_TRUE(q.get_many(0).empty());
  Queue<int> bounded(server.url("batch-bounded"), 3);
  EXPECT_EQ(bounded.put_many(std::span<const int>(xs), 20ms), 3u);  // room for 3
  bounded.shutdown();
  EXPECT_THROW(bounded.put_many(std::span<const int>(xs)), weft::ShutDown);
}

TEST(DistQueue, BadUrlsAreValueErrors) {
  EXPECT_THROW(Queue<int>("http://localhost/q"), weft::ValueError);
  EXPECT_THROW(Queue<int>("redis://localhost:6379"), weft::ValueError);
  EXPECT_THROW(Queue<int>("redis://localhost:99999/q"), weft::ValueError);
  EXPECT_THROW(Queue<int>("redis://:6379/q"), weft::ValueError);
  EXPECT_THROW(Queue<int>("redis+unix://relative/sock?name=q"), weft::ValueError);
  EXPECT_THROW(Queue<int>("redis+unix:///tmp/sock"), weft::ValueError);
  EXPECT_THROW(Queue<int>("redis://localhost:6379/q?color=red"), weft::ValueError);
  EXPECT_THROW(Queue<int>("redis://localhost:6379/a{b}"), weft::ValueError);
}

}  // namespace
