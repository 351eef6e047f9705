// SPDX-License-Identifier: Apache-2.0
// Conformance: the behaviours that CPython's Lib/test/test_queue.py checks, restated
// for weft in our own words (https://github.com/python/cpython, Lib/test/test_queue.py,
// Python 3.13, including the shutdown tests). Where weft differs on purpose it says so:
//   - a negative timeout is an immediate try here (docs/python-mapping.md), not a ValueError;
//   - shutdown(true) returns the removed items instead of discarding them.
// The same suite runs over Queue, LifoQueue and PriorityQueue (typed tests), like
// CPython's BaseQueueTestMixin over its three classes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/blocking.hpp"
#include "weft/errors.hpp"
#include "weft/queue.hpp"

using namespace std::chrono_literals;
using weft::testing::expect_blocks_until;

namespace {

template <class Q>
class CPythonQueue : public ::testing::Test {};

using QueueTypes = ::testing::Types<weft::Queue<int>, weft::LifoQueue<int>, weft::PriorityQueue<int>>;
TYPED_TEST_SUITE(CPythonQueue, QueueTypes);

// The order CPython expects 111, 333, 222 (then 444, 555 ...) to come out in.
template <class Q>
std::vector<int> expected_order();
template <>
std::vector<int> expected_order<weft::Queue<int>>() { return {111, 333, 222}; }
template <>
std::vector<int> expected_order<weft::LifoQueue<int>>() { return {222, 333, 111}; }
template <>
std::vector<int> expected_order<weft::PriorityQueue<int>>() { return {111, 222, 333}; }

constexpr std::size_t kQueueSize = 3;

// CPython's simple_queue_test: order, full/empty, and blocking both ways.
template <class Q>
void simple_queue_test(Q& q) {
  ASSERT_TRUE(q.empty()) << "call this only on an empty queue";
  q.put(111);
  q.put(333);
  q.put(222);
  std::vector<int> got{q.get(), q.get(), q.get()};
  EXPECT_EQ(got, expected_order<Q>()) << "did not return the items in the expected order";
  for (int i = 0; i < static_cast<int>(kQueueSize) - 1; ++i) {
    q.put(i);
    EXPECT_FALSE(q.empty());
  }
  EXPECT_FALSE(q.full());
  const int last = 2 * static_cast<int>(kQueueSize);
  const int full = 3 * 2 * static_cast<int>(kQueueSize);
  q.put(last);
  EXPECT_TRUE(q.full());
  EXPECT_FALSE(q.empty());
  EXPECT_THROW(q.put(full, false), weft::Full);
  EXPECT_THROW(q.put(full, 10ms), weft::Full);
  // A put on a full queue blocks until a get makes room.
  expect_blocks_until([&] { q.put(full); }, [&] { (void)q.get(); });
  expect_blocks_until([&] { q.put(full, 60s); }, [&] { (void)q.get(); });
  // Empty it.
  for (std::size_t i = 0; i < kQueueSize; ++i) (void)q.get();
  EXPECT_TRUE(q.empty());
  EXPECT_THROW(q.get(false), weft::Empty);
  EXPECT_THROW(q.get(10ms), weft::Empty);
  // A get on an empty queue blocks until a put.
  EXPECT_EQ(expect_blocks_until([&] { return q.get(); }, [&] { q.put(7); }), 7);
  EXPECT_EQ(expect_blocks_until([&] { return q.get(60s); }, [&] { q.put(8); }), 8);
}

TYPED_TEST(CPythonQueue, Basic) {
  TypeParam q(kQueueSize);
  simple_queue_test(q);
  simple_queue_test(q);  // and again: the queue must be reusable
}

TYPED_TEST(CPythonQueue, NegativeTimeoutIsAnImmediateTry) {
  // CPython raises ValueError for timeout < 0; weft treats it as a non-blocking try.
  TypeParam q(1);
  q.put(1);
  EXPECT_THROW(q.put(2, -1s), weft::Full);
  EXPECT_EQ(q.get(-1s), 1);
  EXPECT_THROW(q.get(-1s), weft::Empty);
}

TYPED_TEST(CPythonQueue, Nowait) {
  TypeParam q(kQueueSize);
  for (std::size_t i = 0; i < kQueueSize; ++i) q.put_nowait(1);
  EXPECT_THROW(q.put_nowait(1), weft::Full);
  for (std::size_t i = 0; i < kQueueSize; ++i) (void)q.get_nowait();
  EXPECT_THROW(q.get_nowait(), weft::Empty);
}

TYPED_TEST(CPythonQueue, ShrinkingQueue) {
  // A bounded queue that is filled, then drained one item at a time, accepts puts again.
  TypeParam q(3);
  q.put(1);
  q.put(2);
  q.put(3);
  EXPECT_THROW(q.put_nowait(4), weft::Full);
  EXPECT_EQ(q.qsize(), 3u);
  (void)q.get();
  q.put_nowait(4);
  EXPECT_THROW(q.put_nowait(5), weft::Full);
}

TYPED_TEST(CPythonQueue, TaskDoneTooManyTimesIsValueError) {
  TypeParam q;
  EXPECT_THROW(q.task_done(), weft::ValueError);
}

// CPython's queue_join_test: worker threads sum the items and call task_done; join()
// returns only when every item was processed.
template <class Q>
void queue_join_test(Q& q) {
  std::atomic<int> cum{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 2; ++i)
    workers.emplace_back([&] {
      for (;;) {
        const int x = q.get();
        if (x < 0) {
          q.task_done();
          return;
        }
        cum += x;
        q.task_done();
      }
    });
  for (int i = 0; i < 100; ++i) q.put(i);
  q.join();
  EXPECT_EQ(cum.load(), 4950) << "q.join() did not block until all tasks were done";
  for (int i = 0; i < 2; ++i) q.put(-1);  // one "stop" per worker
  q.join();
  for (auto& t : workers) t.join();
}

TYPED_TEST(CPythonQueue, QueueTaskDone) {
  TypeParam q;
  EXPECT_THROW(q.task_done(), weft::ValueError) << "task_done() without a put must fail";
}

TYPED_TEST(CPythonQueue, QueueJoin) {
  TypeParam q;
  queue_join_test(q);
  queue_join_test(q);  // a second round on the same queue
  EXPECT_THROW(q.task_done(), weft::ValueError);
}

TYPED_TEST(CPythonQueue, TaskDoneWithItemsCountsEachOnce) {
  // Python: after N puts, exactly N task_done calls are allowed.
  TypeParam q;
  for (int i = 0; i < 5; ++i) q.put(i);
  for (int i = 0; i < 5; ++i) q.task_done();
  EXPECT_THROW(q.task_done(), weft::ValueError);
}

// ---- items whose move fails (CPython's FailingQueue: _put / _get raise) ------------------

struct FailingQueueItem {
  static inline std::atomic<bool> fail_next_move{false};
  int value = 0;
  explicit FailingQueueItem(int v) : value(v) {}
  FailingQueueItem(FailingQueueItem&& other) : value(other.value) {
    if (fail_next_move.exchange(false)) throw std::runtime_error("move failed");
  }
  FailingQueueItem& operator=(FailingQueueItem&& other) {
    if (fail_next_move.exchange(false)) throw std::runtime_error("move failed");
    value = other.value;
    return *this;
  }
};

TEST(CPythonFailingQueue, AFailedPutOrGetLeavesTheQueueUsable) {
  weft::Queue<FailingQueueItem> q(2);
  q.put(FailingQueueItem(1));
  FailingQueueItem::fail_next_move = true;
  // The parameter is built from the temporary by move: failing there never reaches the
  // queue; failing inside is the case CPython's FailingQueue checks.
  FailingQueueItem f(2);
  EXPECT_THROW(q.put(std::move(f)), std::runtime_error);
  EXPECT_EQ(q.qsize(), 1u);
  q.put(FailingQueueItem(3));
  EXPECT_TRUE(q.full());
  FailingQueueItem::fail_next_move = true;
  EXPECT_THROW((void)q.get(), std::runtime_error);
  FailingQueueItem::fail_next_move = false;
  // The queue still works after the failures and its lock is free.
  (void)q.get_nowait();
  q.put(FailingQueueItem(4));
  while (!q.empty()) (void)q.get();
  EXPECT_THROW(q.get_nowait(), weft::Empty);
}

// ---- Python 3.13 shutdown ---------------------------------------------------------------

TYPED_TEST(CPythonQueue, ShutdownEmpty) {
  TypeParam q;
  q.shutdown();
  EXPECT_THROW(q.put(1), weft::ShutDown);
  EXPECT_THROW(q.get(), weft::ShutDown);
}

TYPED_TEST(CPythonQueue, ShutdownNonEmpty) {
  TypeParam q;
  q.put(1);
  q.shutdown();
  EXPECT_EQ(q.get(), 1);
  EXPECT_THROW(q.get(), weft::ShutDown);
}

TYPED_TEST(CPythonQueue, ShutdownImmediate) {
  TypeParam q;
  q.put(1);
  EXPECT_EQ(q.shutdown(true), std::vector<int>{1});  // weft returns what it removed
  EXPECT_THROW(q.get(), weft::ShutDown);
}

TYPED_TEST(CPythonQueue, ShutdownAllowedTransitions) {
  TypeParam q;
  EXPECT_FALSE(q.is_shutdown());
  q.shutdown();
  EXPECT_TRUE(q.is_shutdown());
  q.shutdown(true);
  EXPECT_TRUE(q.is_shutdown());
  q.shutdown(false);
  EXPECT_TRUE(q.is_shutdown());
}

// Every method, one thread, after shutdown(immediate).
template <class Q>
void shutdown_all_methods_in_one_thread(bool immediate) {
  Q q(2);
  q.put(1);
  q.put(2);
  EXPECT_THROW(q.put_nowait(3), weft::Full);
  q.shutdown(immediate);
  EXPECT_THROW(q.put(4), weft::ShutDown);
  EXPECT_THROW(q.put_nowait(4), weft::ShutDown);
  EXPECT_THROW(q.put(4, 1s), weft::ShutDown);
  if (immediate) {
    EXPECT_THROW(q.get(), weft::ShutDown);
    EXPECT_THROW(q.get_nowait(), weft::ShutDown);
    EXPECT_THROW(q.get(1s), weft::ShutDown);
    q.join();  // the removed items count as done
  } else {
    (void)q.get();
    (void)q.get_nowait();
    EXPECT_THROW(q.get(), weft::ShutDown);
    EXPECT_THROW(q.get_nowait(), weft::ShutDown);
    EXPECT_THROW(q.get(1s), weft::ShutDown);
    q.task_done();
    q.task_done();
    EXPECT_THROW(q.task_done(), weft::ValueError);
    q.join();
  }
}

TYPED_TEST(CPythonQueue, ShutdownAllMethodsInOneThread) {
  shutdown_all_methods_in_one_thread<TypeParam>(false);
}

TYPED_TEST(CPythonQueue, ShutdownImmediateAllMethodsInOneThread) {
  shutdown_all_methods_in_one_thread<TypeParam>(true);
}

// CPython's _shutdown_all_methods_in_many_threads: writers, readers and joiners run while
// the queue is shut down; every thread ends, and every item is got or returned.
template <class Q>
void shutdown_all_methods_in_many_threads(bool immediate) {
  Q q(2);
  constexpr int kWriters = 3, kReaders = 3, kJoiners = 2, kPerWriter = 200;
  std::atomic<int> put_ok{0}, got{0}, readers_shut{0}, writers_ended{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&] {
      try {
        for (int i = 0; i < kPerWriter; ++i) {
          q.put(i);
          ++put_ok;
        }
      } catch (const weft::ShutDown&) {
      }
      ++writers_ended;  // either all put or stopped by ShutDown
    });
  for (int r = 0; r < kReaders; ++r)
    threads.emplace_back([&] {
      try {
        for (;;) {
          (void)q.get();
          ++got;
          q.task_done();
        }
      } catch (const weft::ShutDown&) {
        ++readers_shut;
      }
    });
  for (int j = 0; j < kJoiners; ++j) threads.emplace_back([&] { q.join(); });
  while (got.load() < 50) std::this_thread::yield();  // some traffic first
  const auto rest = q.shutdown(immediate);
  for (auto& t : threads) t.join();
  EXPECT_EQ(readers_shut.load(), kReaders) << "every reader ends with ShutDown";
  EXPECT_EQ(writers_ended.load(), kWriters);
  EXPECT_EQ(put_ok.load(), got.load() + static_cast<int>(rest.size()));
  EXPECT_TRUE(q.join(0s));
}

TYPED_TEST(CPythonQueue, ShutdownAllMethodsInManyThreads) {
  shutdown_all_methods_in_many_threads<TypeParam>(false);
}

TYPED_TEST(CPythonQueue, ShutdownImmediateAllMethodsInManyThreads) {
  shutdown_all_methods_in_many_threads<TypeParam>(true);
}

TYPED_TEST(CPythonQueue, ShutdownGetBlocked) {
  for (bool immediate : {false, true}) {
    TypeParam q;
    expect_blocks_until([&] { EXPECT_THROW((void)q.get(), weft::ShutDown); },
                        [&] { q.shutdown(immediate); });
    TypeParam timed;
    expect_blocks_until([&] { EXPECT_THROW((void)timed.get(60s), weft::ShutDown); },
                        [&] { timed.shutdown(immediate); });
  }
}

TYPED_TEST(CPythonQueue, ShutdownPutBlocked) {
  for (bool immediate : {false, true}) {
    TypeParam q(1);
    q.put(1);
    expect_blocks_until([&] { EXPECT_THROW(q.put(2), weft::ShutDown); },
                        [&] { q.shutdown(immediate); });
    EXPECT_EQ(q.qsize(), immediate ? 0u : 1u);
  }
}

TYPED_TEST(CPythonQueue, ShutdownJoin) {
  // join() blocked on unfinished items returns once shutdown(true) removes them.
  TypeParam q;
  q.put(1);
  q.put(2);
  expect_blocks_until([&] { q.join(); }, [&] { EXPECT_EQ(q.shutdown(true).size(), 2u); });
}

TYPED_TEST(CPythonQueue, ShutdownPutJoin) {
  // Non-immediate shutdown does not release join(): the queued item is still unfinished.
  TypeParam q;
  q.put(1);
  q.shutdown();
  EXPECT_FALSE(q.join(0s));
  expect_blocks_until([&] { q.join(); }, [&] {
    (void)q.get();
    q.task_done();
  });
}

TYPED_TEST(CPythonQueue, ShutdownGetTaskDoneJoin) {
  TypeParam q;
  q.put(1);
  q.put(2);
  q.shutdown();
  (void)q.get();
  q.task_done();
  (void)q.get();
  expect_blocks_until([&] { q.join(); }, [&] { q.task_done(); });
  EXPECT_THROW(q.get(), weft::ShutDown);
}

TYPED_TEST(CPythonQueue, ShutdownPendingGet) {
  // A getter already blocked when shutdown(false) runs on an empty queue gets ShutDown;
  // one blocked while items remain still gets an item.
  TypeParam q;
  expect_blocks_until([&] { EXPECT_THROW((void)q.get(), weft::ShutDown); },
                      [&] { q.shutdown(false); });
}

// ---- SimpleQueue (CPython's BaseSimpleQueueTest) ---------------------------------------

TEST(CPythonSimpleQueue, Basic) {
  weft::SimpleQueue<int> q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.qsize(), 0u);
  q.put(1);
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.qsize(), 1u);
  q.put(2);
  q.put_nowait(3);
  q.put(4, false);
  EXPECT_EQ(q.qsize(), 4u);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get(false), 2);
  EXPECT_EQ(q.get(1s), 3);
  EXPECT_EQ(q.get_nowait(), 4);
  EXPECT_TRUE(q.empty());
  EXPECT_THROW(q.get(false), weft::Empty);
  EXPECT_THROW(q.get(10ms), weft::Empty);
  EXPECT_THROW(q.get_nowait(), weft::Empty);
}

TEST(CPythonSimpleQueue, NegativeTimeoutIsAnImmediateTry) {
  weft::SimpleQueue<int> q;
  q.put(1, -1s);  // put never blocks; the timeout is ignored, as in Python
  EXPECT_EQ(q.get(-1s), 1);
  EXPECT_THROW(q.get(-1s), weft::Empty);
}

TEST(CPythonSimpleQueue, Order) {
  weft::SimpleQueue<int> q;
  std::vector<int> in{3, 1, 4, 1, 5, 9, 2, 6};
  for (int v : in) q.put(v);
  std::vector<int> out;
  while (!q.empty()) out.push_back(q.get());
  EXPECT_EQ(out, in);
}

TEST(CPythonSimpleQueue, ManyThreads) {
  // N producers, M consumers, every item exactly once (CPython's run_threads check).
  constexpr int kProducers = 4, kConsumers = 4, kPerProducer = 2000;
  weft::SimpleQueue<int> q;
  std::atomic<long> sum{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back([&, p] {
      for (int i = 1; i <= kPerProducer; ++i) q.put(p * kPerProducer + i);
    });
  for (int c = 0; c < kConsumers; ++c)
    threads.emplace_back([&] {
      for (;;) {
        const int v = q.get();
        if (v == 0) return;  // sentinel
        sum += v;
      }
    });
  for (int p = 0; p < kProducers; ++p) threads[static_cast<std::size_t>(p)].join();
  for (int c = 0; c < kConsumers; ++c) q.put(0);
  for (std::size_t i = kProducers; i < threads.size(); ++i) threads[i].join();
  const long n = kProducers * kPerProducer;
  EXPECT_EQ(sum.load(), n * (n + 1) / 2);
  EXPECT_TRUE(q.empty());
}

TEST(CPythonSimpleQueue, BlockingGet) {
  weft::SimpleQueue<std::string> q;
  EXPECT_EQ(expect_blocks_until([&] { return q.get(); }, [&] { q.put("x"); }), "x");
  EXPECT_EQ(expect_blocks_until([&] { return q.get(60s); }, [&] { q.put("y"); }), "y");
}

}  // namespace
