// SPDX-License-Identifier: Apache-2.0
// Stress: exact accounting for the queues. N producers and M consumers make random
// blocking, timed and non-blocking calls (single items and batches) on bounded and
// unbounded queues; afterwards every item put must have been received exactly once, or
// returned by shutdown(true), and nothing else. Sized for a few seconds on 2 cores,
// smaller under ThreadSanitizer. Seeds are fixed and printed on failure.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "weft/detail/tsan.hpp"  // WEFT_TSAN: smaller runs under ThreadSanitizer
#include "weft/errors.hpp"
#include "weft/event.hpp"
#include "weft/queue.hpp"

using namespace std::chrono_literals;

namespace {

#if defined(WEFT_TSAN)
constexpr int kAccountingScale = 2;
#else
constexpr int kAccountingScale = 16;
#endif

using Item = std::uint64_t;  // (producer << 32) | index

// Per-item receipt counters: every id must end at exactly 1.
class Ledger {
 public:
  Ledger(int producers, int per_producer)
      : per_(per_producer), counts_(static_cast<std::size_t>(producers) * per_producer) {}
  void received(Item item) {
    counts_[index(item)].fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<int>& at(Item item) { return counts_[index(item)]; }
  std::size_t size() const { return counts_.size(); }
  int count(std::size_t i) const { return counts_[i].load(); }

 private:
  std::size_t index(Item item) const {
    return static_cast<std::size_t>(item >> 32) * static_cast<std::size_t>(per_) +
           static_cast<std::size_t>(item & 0xffffffffu);
  }
  int per_;
  std::vector<std::atomic<int>> counts_;
};

struct Shape {
  int producers;
  int consumers;
  std::size_t maxsize;
  bool immediate_shutdown_midway;
};

// Puts items [0, n) of producer p with random call forms. Records which went in:
// `put_ok[i]` is set for each item the queue accepted. Stops at ShutDown.
template <class Q>
void produce(Q& q, int p, int n, std::vector<char>& put_ok, std::mt19937& rng) {
  auto id = [p](int i) { return (static_cast<Item>(p) << 32) | static_cast<Item>(i); };
  int i = 0;
  try {
    while (i < n) {
      switch (rng() % 6) {
        case 0:
          q.put(id(i));
          put_ok[static_cast<std::size_t>(i++)] = 1;
          break;
        case 1:
          try {
            q.put(id(i), std::chrono::microseconds(rng() % 200));
            put_ok[static_cast<std::size_t>(i++)] = 1;
          } catch (const weft::Full&) {
          }
          break;
        case 2:
          try {
            q.put_nowait(id(i));
            put_ok[static_cast<std::size_t>(i++)] = 1;
          } catch (const weft::Full&) {
            std::this_thread::yield();
          }
          break;
        case 3: {
          Item item = id(i);
          if (q.try_put(item)) {
            put_ok[static_cast<std::size_t>(i++)] = 1;
          } else {
            if (item != id(i)) {
              ADD_FAILURE() << "failed try_put changed the item";
            }
            if (q.is_shutdown()) throw weft::ShutDown();
            std::this_thread::yield();
          }
          break;
        }
        case 4: {
          const int want = std::min(n - i, static_cast<int>(rng() % 16) + 1);
          std::vector<Item> batch;
          for (int k = 0; k < want; ++k) batch.push_back(id(i + k));
          std::size_t moved = 0;
          if (rng() % 2 == 0) {
            moved = q.put_many(batch);
          } else {
            moved = q.put_many(batch, std::chrono::microseconds(rng() % 300));
          }
          for (std::size_t k = 0; k < moved; ++k) put_ok[static_cast<std::size_t>(i) + k] = 1;
          i += static_cast<int>(moved);
          if (moved < batch.size() && q.is_shutdown()) throw weft::ShutDown();
          break;
        }
        default: {
          Item item = id(i);
          if (q.try_put(item, std::chrono::microseconds(rng() % 200))) {
            put_ok[static_cast<std::size_t>(i++)] = 1;
          } else if (q.is_shutdown()) {
            throw weft::ShutDown();
          }
          break;
        }
      }
    }
  } catch (const weft::ShutDown&) {
    // stop producing: the items from i on were never accepted
  }
}

// Gets with random call forms until the queue is shut down and drained.
template <class Q>
void consume(Q& q, Ledger& ledger, std::atomic<long>& received, std::mt19937& rng) {
  try {
    for (;;) {
      switch (rng() % 6) {
        case 0:
          ledger.received(q.get());
          ++received;
          break;
        case 1:
          try {
            ledger.received(q.get(std::chrono::microseconds(rng() % 200)));
            ++received;
          } catch (const weft::Empty&) {
          }
          break;
        case 2:
          try {
            ledger.received(q.get_nowait());
            ++received;
          } catch (const weft::Empty&) {
            std::this_thread::yield();
          }
          break;
        case 3: {
          auto got = q.try_get(std::chrono::microseconds(rng() % 200));
          if (got) {
            ledger.received(*got);
            ++received;
          } else if (q.is_shutdown() && q.empty()) {
            // drained: get() below would throw ShutDown too
            (void)q.get_nowait();
          }
          break;
        }
        case 4: {
          auto batch = rng() % 2 == 0 ? q.get_many(rng() % 8 + 1)
                                      : q.get_many(rng() % 8 + 1, std::chrono::microseconds(rng() % 300));
          for (Item v : batch) ledger.received(v);
          received += static_cast<long>(batch.size());
          break;
        }
        default:
          for (auto&& v : q) {  // range-for: a few items, then back to random calls
            ledger.received(v);
            ++received;
            if (rng() % 4 == 0) break;
          }
          if (q.is_shutdown() && q.empty()) (void)q.get_nowait();
          break;
      }
    }
  } catch (const weft::ShutDown&) {
  }
}

template <class Q>
void run_accounting(const Shape& shape, unsigned seed) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed << ", " << shape.producers << "P"
                                    << shape.consumers << "C, maxsize " << shape.maxsize
                                    << (shape.immediate_shutdown_midway ? ", shutdown(true) midway" : ""));
  const int per_producer = 2500 * kAccountingScale / shape.producers;
  Q q(shape.maxsize);
  Ledger ledger(shape.producers, per_producer);
  std::vector<std::vector<char>> put_ok(static_cast<std::size_t>(shape.producers),
                                        std::vector<char>(static_cast<std::size_t>(per_producer), 0));
  std::atomic<long> received{0};
  std::vector<std::thread> producers, consumers;
  for (int p = 0; p < shape.producers; ++p)
    producers.emplace_back([&, p] {
      std::mt19937 rng(seed * 7919u + static_cast<unsigned>(p));
      produce(q, p, per_producer, put_ok[static_cast<std::size_t>(p)], rng);
    });
  for (int c = 0; c < shape.consumers; ++c)
    consumers.emplace_back([&, c] {
      std::mt19937 rng(seed * 104729u + static_cast<unsigned>(c));
      consume(q, ledger, received, rng);
    });
  std::vector<Item> returned;
  if (shape.immediate_shutdown_midway) {
    const long total = static_cast<long>(shape.producers) * per_producer;
    while (received.load() < total / 3) std::this_thread::yield();
    returned = q.shutdown(true);
    for (auto& t : producers) t.join();
  } else {
    for (auto& t : producers) t.join();
    q.shutdown();
  }
  for (auto& t : consumers) t.join();
  for (Item v : returned) ledger.received(v);
  // Every accepted item was received (or returned) exactly once; nothing else appeared.
  long accepted = 0;
  int bad = 0;
  for (int p = 0; p < shape.producers; ++p)
    for (int i = 0; i < per_producer; ++i) {
      const Item id = (static_cast<Item>(p) << 32) | static_cast<Item>(i);
      const int want = put_ok[static_cast<std::size_t>(p)][static_cast<std::size_t>(i)];
      accepted += want;
      if (ledger.at(id).load() != want && bad++ < 5) {
        ADD_FAILURE() << "item " << p << ":" << i << " accepted " << want << " times, received "
                      << ledger.at(id).load() << " times";
      }
    }
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(accepted, received.load() + static_cast<long>(returned.size()));
  if (!shape.immediate_shutdown_midway) {
    EXPECT_EQ(accepted, static_cast<long>(shape.producers) * per_producer);
  }
  EXPECT_TRUE(q.empty());
  // Nothing may be left waiting or half-counted.
  for (long k = 0; k < received.load(); ++k) {
    try {
      q.task_done();
    } catch (const weft::ValueError&) {
      ADD_FAILURE() << "fewer unfinished tasks than items received";
      break;
    }
  }
  EXPECT_TRUE(q.join(0s));
}

const Shape kShapes[] = {
    {1, 1, 0, false},  {1, 1, 16, false}, {4, 4, 0, false},  {4, 4, 8, false},
    {8, 2, 4, false},  {2, 8, 1024, false}, {16, 16, 1, false},
    {4, 4, 0, true},   {4, 4, 8, true},   {3, 5, 2, true},
};

TEST(QueueStress, ExactAccountingFifo) {
  unsigned seed = 1;
  for (const Shape& s : kShapes) run_accounting<weft::Queue<Item>>(s, seed++);
}

TEST(QueueStress, ExactAccountingLifo) {
  unsigned seed = 100;
  for (const Shape& s : {kShapes[3], kShapes[7], kShapes[9]})
    run_accounting<weft::LifoQueue<Item>>(s, seed++);
}

TEST(QueueStress, ExactAccountingPriority) {
  unsigned seed = 200;
  for (const Shape& s : {kShapes[3], kShapes[8]}) run_accounting<weft::PriorityQueue<Item>>(s, seed++);
}

TEST(QueueStress, SimpleQueueManyToMany) {
  constexpr int kProducers = 4, kConsumers = 4;
  const int per = 5000 * kAccountingScale / kProducers;
  weft::SimpleQueue<Item> q;
  Ledger ledger(kProducers, per);
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < per; ++i) q.put((static_cast<Item>(p) << 32) | static_cast<Item>(i));
    });
  std::atomic<long> received{0};
  const long total = static_cast<long>(kProducers) * per;
  for (int c = 0; c < kConsumers; ++c)
    threads.emplace_back([&, c] {
      std::mt19937 rng(static_cast<unsigned>(c) + 1);
      while (received.load() < total) {
        if (rng() % 2 == 0) {
          if (auto v = q.try_get(100us)) {
            ledger.received(*v);
            ++received;
          }
        } else {
          auto batch = q.get_many(rng() % 8 + 1, 100us);
          for (Item v : batch) ledger.received(v);
          received += static_cast<long>(batch.size());
        }
      }
    });
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < ledger.size(); ++i) ASSERT_EQ(ledger.count(i), 1) << "item " << i;
}

// select under the same accounting: producers spread items over three queues (one
// bounded); consumers mix select, timed select and plain gets; the queues are shut down
// at the end (or shutdown(true) midway) and every item is accounted for exactly once.
void run_select(bool immediate, unsigned seed) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed << (immediate ? ", shutdown(true) midway" : ""));
  constexpr int kProducers = 4, kConsumers = 4;
  const int per = 2000 * kAccountingScale / kProducers;
  weft::Queue<Item> a(4), b;
  weft::LifoQueue<Item> c(16);
  Ledger ledger(kProducers, per);
  std::vector<std::vector<char>> put_ok(kProducers, std::vector<char>(static_cast<std::size_t>(per), 0));
  std::atomic<long> received{0};
  std::vector<std::thread> producers, consumers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&, p] {
      std::mt19937 rng(seed + static_cast<unsigned>(p));
      try {
        for (int i = 0; i < per; ++i) {
          const Item id = (static_cast<Item>(p) << 32) | static_cast<Item>(i);
          switch (rng() % 3) {
            case 0: a.put(id); break;
            case 1: b.put(id); break;
            default: c.put(id); break;
          }
          put_ok[static_cast<std::size_t>(p)][static_cast<std::size_t>(i)] = 1;
        }
      } catch (const weft::ShutDown&) {
      }
    });
  for (int k = 0; k < kConsumers; ++k)
    consumers.emplace_back([&, k] {
      std::mt19937 rng(seed * 31u + static_cast<unsigned>(k));
      auto take = [&](Item v) {
        ledger.received(v);
        ++received;
      };
      try {
        for (;;) {
          switch (rng() % 4) {
            case 0: {
              auto r = weft::select(a, b, c);
              std::visit(take, r.value);
              break;
            }
            case 1: {
              auto r = weft::try_select(std::chrono::microseconds(rng() % 200), a, b, c);
              if (r) {
                std::visit(take, r->value);
              } else if (a.is_shutdown() && b.is_shutdown() && c.is_shutdown() && a.empty() &&
                         b.empty() && c.empty()) {
                throw weft::ShutDown();
              }
              break;
            }
            case 2: {
              auto r = weft::select(a, c);  // a subset; may be all closed before b is
              std::visit(take, r.value);
              break;
            }
            default:
              if (auto v = b.try_get()) take(*v);
              break;
          }
        }
      } catch (const weft::ShutDown&) {
        // select(a, c) may end while b still has items: drain b here.
        try {
          for (;;) take(b.get());
        } catch (const weft::ShutDown&) {
        }
      }
    });
  std::vector<Item> returned;
  if (immediate) {
    const long total = static_cast<long>(kProducers) * per;
    while (received.load() < total / 3) std::this_thread::yield();
    for (auto* q : {&a, &b}) {
      auto r = q->shutdown(true);
      returned.insert(returned.end(), r.begin(), r.end());
    }
    auto r = c.shutdown(true);
    returned.insert(returned.end(), r.begin(), r.end());
    for (auto& t : producers) t.join();
  } else {
    for (auto& t : producers) t.join();
    a.shutdown();
    b.shutdown();
    c.shutdown();
  }
  for (auto& t : consumers) t.join();
  for (Item v : returned) ledger.received(v);
  int bad = 0;
  long accepted = 0;
  for (int p = 0; p < kProducers; ++p)
    for (int i = 0; i < per; ++i) {
      const Item id = (static_cast<Item>(p) << 32) | static_cast<Item>(i);
      const int want = put_ok[static_cast<std::size_t>(p)][static_cast<std::size_t>(i)];
      accepted += want;
      if (ledger.at(id).load() != want && bad++ < 5) {
        ADD_FAILURE() << "item " << p << ":" << i << " accepted " << want << ", received "
                      << ledger.at(id).load();
      }
    }
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(accepted, received.load() + static_cast<long>(returned.size()));
}

// select over two queues and a stop Event: consumers take items until the event fires
// (set once every producer is done), then drain what is left with try_select.
TEST(QueueStress, SelectWithStopEventExactAccounting) {
  constexpr int kProducers = 4, kConsumers = 4;
  const int per = 2000 * kAccountingScale / kProducers;
  weft::Queue<Item> a(8);
  weft::SimpleQueue<Item> b;
  weft::Event stop, noise;
  Ledger ledger(kProducers, per);
  std::atomic<long> received{0}, noise_seen{0};
  std::vector<std::thread> producers, consumers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&, p] {
      for (int i = 0; i < per; ++i) {
        const Item id = (static_cast<Item>(p) << 32) | static_cast<Item>(i);
        if (i % 2 == 0) {
          a.put(id);
        } else {
          b.put(id);
        }
        if (i % 97 == 0) {  // pulses on a second event: must never disturb the accounting
          noise.set();
          noise.clear();
        }
      }
    });
  for (int k = 0; k < kConsumers; ++k)
    consumers.emplace_back([&] {
      auto take = [&](auto&& r) {
        if (r.index == 0) {
          ledger.received(r.template get<0>());
          ++received;
        } else if (r.index == 1) {
          ledger.received(r.template get<1>());
          ++received;
        } else if (r.index == 3) {
          ++noise_seen;
        }
        return r.index != 2;
      };
      while (take(weft::select(a, b, stop, noise))) {
      }
      while (auto r = weft::try_select(a, b)) take(*r);
    });
  for (auto& t : producers) t.join();
  stop.set();
  for (auto& t : consumers) t.join();
  for (std::size_t i = 0; i < ledger.size(); ++i) ASSERT_EQ(ledger.count(i), 1) << "item " << i;
  EXPECT_EQ(received.load(), static_cast<long>(kProducers) * per);
}

TEST(QueueStress, SelectExactAccounting) { run_select(false, 7); }
TEST(QueueStress, SelectExactAccountingShutdownImmediateMidway) { run_select(true, 8); }

}  // namespace
