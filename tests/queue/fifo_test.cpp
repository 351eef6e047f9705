// SPDX-License-Identifier: Apache-2.0
// Tests of the two-lock FIFO engine behind Queue and SimpleQueue (detail::FifoCore):
// segment boundaries, the spare segment, item lifetimes, exceptions thrown by item
// moves, and races between the put side and the get side (select, shutdown, qsize,
// join), which take different locks.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/scope_exit.hpp"
#include "weft/errors.hpp"
#include "weft/queue.hpp"

using namespace std::chrono_literals;

namespace {

// A white-box view of the engine's segments (protected members of FifoCore).
template <class T>
struct Peek : weft::Queue<T> {
  using weft::Queue<T>::Queue;
  static constexpr std::size_t seg_items() { return Peek::kSegItems; }
  const void* spare() const { return this->spare_.load(); }
  const void* head_seg() const { return this->head_seg_; }
  const void* tail_seg() const { return this->tail_seg_; }
};

struct Big {
  char bytes[600] = {};
  int id = 0;
};

static_assert(Peek<int>::seg_items() == 128);
static_assert(Peek<std::uint64_t>::seg_items() == 64);
static_assert(Peek<Big>::seg_items() == 8);  // at least 8 items per segment
static_assert(sizeof(weft::Queue<int>) == 128 && sizeof(weft::SimpleQueue<int>) == 128);

// Counts live instances, to prove every item is destroyed exactly once.
struct Counted {
  static inline std::atomic<int> alive{0};
  int v = 0;
  explicit Counted(int x) : v(x) { ++alive; }
  Counted(Counted&& o) noexcept : v(o.v) { ++alive; }
  Counted& operator=(Counted&&) = default;
  ~Counted() { --alive; }
};

// Throws from its move constructor while fail_moves > 0 (one throw per move).
struct ThrowingMoveItem {
  static inline int fail_moves = 0;
  int v = 0;
  explicit ThrowingMoveItem(int x) : v(x) {}
  ThrowingMoveItem(ThrowingMoveItem&& o) : v(o.v) {
    if (fail_moves > 0) {
      --fail_moves;
      throw std::runtime_error("move failed");
    }
  }
  ThrowingMoveItem& operator=(ThrowingMoveItem&&) = default;
};

template <class Q, class Make, class Val>
void expect_order_across_boundaries(std::size_t seg, Make make, Val val) {
  Q q;
  int next_put = 0, next_get = 0;
  for (std::size_t n : {seg - 1, seg, seg + 1, 2 * seg, 3 * seg + 1}) {
    for (std::size_t i = 0; i < n; ++i) q.put(make(next_put++));
    EXPECT_EQ(q.qsize(), n);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(val(q.get()), next_get++);
    EXPECT_TRUE(q.empty());
  }
  // Empty exactly at a segment boundary, then refilled one item at a time.
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < seg; ++i) q.put(make(next_put++));
    for (std::size_t i = 0; i < seg; ++i) ASSERT_EQ(val(q.get()), next_get++);
    q.put(make(next_put++));
    ASSERT_EQ(val(q.get()), next_get++);
  }
}

TEST(FifoEngine, OrderAcrossSegmentBoundaries) {
  auto same = [](int v) { return v; };
  expect_order_across_boundaries<weft::Queue<int>>(Peek<int>::seg_items(), same, same);
  expect_order_across_boundaries<weft::SimpleQueue<int>>(Peek<int>::seg_items(), same, same);
  expect_order_across_boundaries<weft::Queue<std::string>>(
      Peek<std::string>::seg_items(), [](int v) { return std::to_string(v); },
      [](const std::string& s) { return std::stoi(s); });
  expect_order_across_boundaries<weft::Queue<Big>>(
      Peek<Big>::seg_items(),
      [](int v) {
        Big b;
        b.id = v;
        return b;
      },
      [](const Big& b) { return b.id; });
}

TEST(FifoEngine, BatchesAcrossSegmentBoundaries) {
  weft::Queue<int> q(300);  // bounded, not a multiple of the segment size
  std::vector<int> in(1000);
  for (int i = 0; i < 1000; ++i) in[static_cast<std::size_t>(i)] = i;
  int next = 0;
  std::size_t put = 0;
  while (put < in.size()) {
    put += q.put_many(std::span<int>(in).subspan(put), 0s);  // as many as fit
    EXPECT_LE(q.qsize(), 300u);
    for (int v : q.get_many(77)) ASSERT_EQ(v, next++);
  }
  while (!q.empty())
    for (int v : q.get_many(1000)) ASSERT_EQ(v, next++);
  EXPECT_EQ(next, 1000);
}

// Each side caches the other side's position; batch calls and shutdown(true) must still
// see everything queued (or all the room) right now, not the cached view.
TEST(FifoEngine, BatchesAndShutdownSeePastTheCachedPositions) {
  weft::Queue<int> q(10);
  for (int i = 0; i < 5; ++i) q.put(i);
  EXPECT_EQ(q.get(), 0);  // the get side now caches "5 put"
  for (int i = 5; i < 10; ++i) q.put(i);
  std::vector<int> got = q.get_many(100, 0s);
  ASSERT_EQ(got.size(), 9u);
  EXPECT_EQ(got.back(), 9);
  std::vector<int> batch(10, 7);
  EXPECT_EQ(q.put_many(batch, 0s), 10u);  // the put side cached "0 taken"
  EXPECT_EQ(q.get(), 7);
  q.put(8);
  EXPECT_EQ(q.shutdown(true).size(), 10u);
  EXPECT_TRUE(q.empty());
}

TEST(FifoEngine, NeverUsedQueueOwnsNoMemory) {
  Peek<int> q;
  EXPECT_EQ(q.head_seg(), nullptr);
  EXPECT_EQ(q.spare(), nullptr);
  q.put(1);
  EXPECT_NE(q.head_seg(), nullptr);
  EXPECT_EQ(q.head_seg(), q.tail_seg());
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.spare(), nullptr);  // the only segment stays in use
}

TEST(FifoEngine, SegmentLeftByGetsBecomesTheSpareAndIsReused) {
  Peek<int> q;
  const int s = static_cast<int>(Peek<int>::seg_items());
  for (int i = 0; i <= s; ++i) q.put(i);  // two segments: A full, B holds one item
  const void* first = q.head_seg();
  EXPECT_NE(first, q.tail_seg());
  for (int i = 0; i <= s; ++i) ASSERT_EQ(q.get(), i);  // leaves A
  EXPECT_EQ(q.spare(), first);
  for (int i = 1; i < s; ++i) q.put(i);  // fills B
  EXPECT_EQ(q.spare(), first);
  q.put(s);  // needs a third segment: takes the spare instead of allocating
  EXPECT_EQ(q.tail_seg(), first);
  EXPECT_EQ(q.spare(), nullptr);
  for (int i = 1; i <= s; ++i) ASSERT_EQ(q.get(), i);
}

TEST(FifoEngine, ItemsAreDestroyedExactlyOnce) {
  const int s = static_cast<int>(Peek<Counted>::seg_items());
  {
    weft::Queue<Counted> q;
    for (int i = 0; i < 3 * s + 5; ++i) q.put(Counted(i));
    EXPECT_EQ(Counted::alive.load(), 3 * s + 5);
    for (int i = 0; i < s + 2; ++i) EXPECT_EQ(q.get().v, i);
    EXPECT_EQ(Counted::alive.load(), 2 * s + 3);
    auto rest = q.shutdown(true);
    ASSERT_EQ(rest.size(), static_cast<std::size_t>(2 * s + 3));
    EXPECT_EQ(rest.front().v, s + 2);
    EXPECT_EQ(rest.back().v, 3 * s + 4);
  }
  EXPECT_EQ(Counted::alive.load(), 0);
  {
    weft::SimpleQueue<Counted> q;  // destroyed while holding items in several segments
    for (int i = 0; i < 2 * s + 1; ++i) q.put(Counted(i));
    (void)q.get();
  }
  EXPECT_EQ(Counted::alive.load(), 0);
}

TEST(FifoEngine, ThrowingMovesLoseNothing) {
  weft::Queue<ThrowingMoveItem> q;
  const int s = static_cast<int>(Peek<ThrowingMoveItem>::seg_items());
  for (int i = 0; i < s; ++i) {
    ThrowingMoveItem f(i);
    ASSERT_TRUE(q.try_put(f));
  }
  // The next put needs a new segment and its move throws: nothing is queued.
  ThrowingMoveItem bad(-1);
  ThrowingMoveItem::fail_moves = 1;
  EXPECT_THROW((void)q.try_put(bad), std::runtime_error);
  EXPECT_EQ(q.qsize(), static_cast<std::size_t>(s));
  for (int i = s; i < s + 3; ++i) {
    ThrowingMoveItem f(i);
    ASSERT_TRUE(q.try_put(f));
  }
  // A get whose move throws leaves the item queued, at the front.
  ThrowingMoveItem::fail_moves = 1;
  EXPECT_THROW((void)q.try_get(), std::runtime_error);
  EXPECT_EQ(q.qsize(), static_cast<std::size_t>(s + 3));
  for (int i = 0; i < s + 3; ++i) {
    auto got = q.try_get();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->v, i);
  }
  EXPECT_FALSE(q.try_get().has_value());
  EXPECT_EQ(ThrowingMoveItem::fail_moves, 0);
}

// A put on another thread races each select's poll (get lock) and its registration
// (put lock): every select must see its item, never sleep through it.
TEST(FifoEngine, SelectNeverMissesAPutRacingItsRegistration) {
  weft::Queue<int> a;
  weft::SimpleQueue<int> b;
  constexpr int kRounds = 500;
  constexpr int kStop = kRounds;
  std::atomic<int> turn{-1};
  std::thread producer([&] {
    for (int i = 0; i < kRounds; ++i) {
      while (turn.load(std::memory_order_acquire) != i) {
        if (turn.load(std::memory_order_acquire) == kStop) return;
        std::this_thread::yield();
      }
      if (i % 2 == 0) {
        a.put(i);
      } else {
        b.put(i);
      }
    }
  });
  // A failed ASSERT (or Empty thrown) must not leave `producer` joinable.
  weft::testing::ScopeExit stop_producer([&] {
    turn.store(kStop, std::memory_order_release);
    producer.join();
  });
  for (int i = 0; i < kRounds; ++i) {
    turn.store(i, std::memory_order_release);
    auto got = weft::select(60s, a, b);  // Empty (a failure) only after 60 s
    ASSERT_EQ(got.index, static_cast<std::size_t>(i % 2));
    ASSERT_EQ(i % 2 == 0 ? got.get<0>() : got.get<1>(), i);
  }
}

// Producers, consumers (calling task_done) and a joiner are all busy when shutdown(true)
// takes both locks: every accepted item is received exactly once or returned, and join
// returns once the consumers are done.
TEST(FifoEngine, ShutdownImmediateWhileBothSidesAreBusy) {
  for (std::size_t maxsize : {std::size_t{0}, std::size_t{5}}) {
    weft::Queue<int> q(maxsize);
    std::atomic<long> accepted{0}, received{0}, sum_received{0}, sum_accepted{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < 2; ++p)
      threads.emplace_back([&, p] {
        try {
          for (int i = p;; i += 2) {
            q.put(i);
            accepted.fetch_add(1);
            sum_accepted.fetch_add(i);
          }
        } catch (const weft::ShutDown&) {
        }
      });
    for (int c = 0; c < 2; ++c)
      threads.emplace_back([&] {
        for (int v : q) {
          received.fetch_add(1);
          sum_received.fetch_add(v);
          q.task_done();
        }
      });
    std::atomic<bool> joined{false};
    std::thread joiner([&] { joined.store(q.join(60s)); });  // false: a failure
    while (received.load() < 2000) std::this_thread::yield();
    const std::vector<int> rest = q.shutdown(true);
    for (auto& t : threads) t.join();
    joiner.join();
    long sum_rest = 0;
    for (int v : rest) sum_rest += v;
    EXPECT_EQ(accepted.load(), received.load() + static_cast<long>(rest.size()));
    EXPECT_EQ(sum_accepted.load(), sum_received.load() + sum_rest);
    EXPECT_TRUE(joined.load());
    EXPECT_TRUE(q.join(0s));
    EXPECT_THROW(q.task_done(), weft::ValueError);
  }
}

// qsize() reads the two sides' positions without a lock: it must stay a plausible
// snapshot (never wrap below zero, never above what was put) while both sides run.
TEST(FifoEngine, QsizeStaysPlausibleUnderConcurrentPutsAndGets) {
  weft::Queue<int> q;
  constexpr int kItems = 20000;
  std::atomic<bool> stop{false};
  std::size_t worst = 0;
  std::thread watcher([&] {
    while (!stop.load()) worst = std::max(worst, q.qsize());
  });
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) q.put(i);
  });
  for (int i = 0; i < kItems; ++i) {
    const int got = q.get();
    if (got != i) {  // no ASSERT: returning would leave the threads joinable
      ADD_FAILURE() << "got " << got << " expected " << i;
      break;
    }
  }
  producer.join();
  stop.store(true);
  watcher.join();
  EXPECT_LE(worst, static_cast<std::size_t>(kItems));
  EXPECT_EQ(q.qsize(), 0u);
}

TEST(FifoEngine, TaskDoneCountsAgainstPutsNotGets) {
  weft::Queue<int> q;
  q.put(1);
  q.put(2);
  q.task_done();  // allowed before any get, as in Python: one unfinished task left
  EXPECT_FALSE(q.join(0s));
  q.task_done();
  EXPECT_TRUE(q.join(0s));
  EXPECT_THROW(q.task_done(), weft::ValueError);
  EXPECT_EQ(q.qsize(), 2u);
  // shutdown(true) counts removed items done only up to the unfinished count.
  q.put(3);
  EXPECT_EQ(q.shutdown(true).size(), 3u);
  EXPECT_TRUE(q.join(0s));
  EXPECT_THROW(q.task_done(), weft::ValueError);
}

}  // namespace
