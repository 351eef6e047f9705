// SPDX-License-Identifier: Apache-2.0
// bench/queue_workloads.hpp: the queue workloads shared by weft_queue_bench and weft_goals.
//   hand-off: P producers and C consumers moving `items` integers through one queue, timed
//     from the moment they are released together until all have finished;
//   ping-pong: one thread puts into one queue, its partner gets and answers through a
//     second, the first gets the answer; and its floor, two threads spinning on atomics.
// Queue adapters have make(maxsize), put(q, v) and get(q).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <memory>
#include <vector>

#include "spin.hpp"
#include "weft/queue.hpp"

#if defined(WEFT_HAVE_MOODYCAMEL)
#include <blockingconcurrentqueue.h>
#endif
#if defined(WEFT_HAVE_ATOMIC_QUEUE)
#include <atomic_queue/atomic_queue.h>
#endif

namespace bench {

using Item = std::uint64_t;

struct WeftQueue {
  using Q = weft::Queue<Item>;
  static std::unique_ptr<Q> make(std::size_t maxsize) { return std::make_unique<Q>(maxsize); }
  static void put(Q& q, Item v) { q.put(v); }
  static Item get(Q& q) { return q.get(); }
};

#if defined(WEFT_HAVE_MOODYCAMEL)
// Unbounded whatever maxsize says; not FIFO across producers.
struct Moodycamel {
  using Q = moodycamel::BlockingConcurrentQueue<Item>;
  static std::unique_ptr<Q> make(std::size_t) { return std::make_unique<Q>(); }
  static void put(Q& q, Item v) { q.enqueue(v); }
  static Item get(Q& q) {
    Item v;
    q.wait_dequeue(v);
    return v;
  }
};
#endif

#if defined(WEFT_HAVE_ATOMIC_QUEUE)
// atomic_queue's bounded ring of atomics (capacity rounded up to a power of two). push
// and pop spin on their slot until it is free or filled; they never sleep. 0 marks an
// empty slot, so items travel as v + 1.
struct AtomicQueueB {
  using Q = atomic_queue::AtomicQueueB<Item>;
  static std::unique_ptr<Q> make(std::size_t maxsize) {
    return std::make_unique<Q>(static_cast<unsigned>(maxsize));
  }
  static void put(Q& q, Item v) { q.push(v + 1); }
  static Item get(Q& q) { return q.pop() - 1; }
};
#endif

// Starts P producer and C consumer threads, releases them together and returns the wall
// time until all have finished. produce(p) puts producer p's share of the `items` items
// (items p * items / P onwards); consume() takes items and returns their sum. Aborts
// unless every item arrived exactly once.
template <class Produce, class Consume>
double timed_transfer(int producers, int consumers, int items, Produce produce, Consume consume) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<Item> sink{0};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(producers + consumers));
  auto wait_go = [&] {
    ready.fetch_add(1);
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
  };
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      wait_go();
      produce(p);
    });
  for (int c = 0; c < consumers; ++c)
    threads.emplace_back([&] {
      wait_go();
      sink.fetch_add(consume(), std::memory_order_relaxed);
    });
  while (ready.load() != producers + consumers) std::this_thread::yield();
  const auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  const auto stop = std::chrono::steady_clock::now();
  const Item n = static_cast<Item>(items);
  if (sink.load() != n * (n - 1) / 2) std::abort();  // every item exactly once
  return std::chrono::duration<double>(stop - start).count();
}

// The same transfer through a queue adapter A (make(maxsize), put, get): returns its
// wall time in seconds. `items` must be a multiple of both counts.
template <class A>
double handoff_once(int producers, int consumers, std::size_t maxsize, int items) {
  auto q = A::make(maxsize);
  const int per_producer = items / producers;
  const int per_consumer = items / consumers;
  return timed_transfer(
      producers, consumers, items,
      [&](int p) {
        const Item base = static_cast<Item>(p) * static_cast<Item>(per_producer);
        for (int i = 0; i < per_producer; ++i) A::put(*q, base + static_cast<Item>(i));
      },
      [&] {
        Item sum = 0;
        for (int i = 0; i < per_consumer; ++i) sum += A::get(*q);
        return sum;
      });
}

// `round_trips` round trips through two queues of adapter A (unbounded): returns the
// seconds they took. Aborts if an answer is not the item sent.
template <class A>
double pingpong_once(int round_trips) {
  auto there = A::make(0);
  auto back = A::make(0);
  std::thread echo([&] {
    for (int i = 0; i < round_trips; ++i) A::put(*back, A::get(*there));
  });
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < round_trips; ++i) {
    A::put(*there, static_cast<Item>(i));
    if (A::get(*back) != static_cast<Item>(i)) std::abort();
  }
  const auto stop = std::chrono::steady_clock::now();
  echo.join();
  return std::chrono::duration<double>(stop - start).count();
}

// The floor of pingpong_once: the same round trips through two atomics (one each way,
// on separate cache lines), both threads spinning (bench::spin_poll).
inline double spin_pingpong_once(int round_trips) {
  struct Lines {
    alignas(64) std::atomic<std::uint32_t> there{0};
    alignas(64) std::atomic<std::uint32_t> back{0};
  };
  auto lines = std::make_unique<Lines>();
  const auto n = static_cast<std::uint32_t>(round_trips);
  auto wait_for = [](const std::atomic<std::uint32_t>& a, std::uint32_t v) {
    std::uint32_t polls = 0;
    while (a.load(std::memory_order_acquire) != v) spin_poll(polls);
  };
  std::thread echo([&] {
    for (std::uint32_t i = 1; i <= n; ++i) {
      wait_for(lines->there, i);
      lines->back.store(i, std::memory_order_release);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  for (std::uint32_t i = 1; i <= n; ++i) {
    lines->there.store(i, std::memory_order_release);
    wait_for(lines->back, i);
  }
  const auto stop = std::chrono::steady_clock::now();
  echo.join();
  return std::chrono::duration<double>(stop - start).count();
}

}  // namespace bench
