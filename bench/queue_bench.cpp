// SPDX-License-Identifier: Apache-2.0
// Queue benchmarks: weft's queues against the C++ queues people use, in the same run.
//
//   Handoff/<impl>/<bounded|unbounded>/<P>P<C>C: P producers and C consumers move
//     kItems 8-byte items through one queue (bounded: capacity 1024). items_per_second
//     is the figure of merit; compare rows of the same shape.
//   PingPong/<impl>: one round trip = A puts into q1, B gets it and puts into q2, A gets
//     it. AtomicSpin is the floor: two threads bouncing one cache line.
//   Memory/<impl>: sizeof, heap bytes of an empty queue, and bytes per queued int.
//
// Anchors: a textbook std::mutex + 2 std::condition_variable + std::deque queue (below),
// moodycamel::BlockingConcurrentQueue (unbounded, not FIFO across producers),
// tbb::concurrent_bounded_queue, boost::sync_bounded_queue / sync_queue. Missing anchors
// are skipped with a message. bench/queue_bench.sh runs this plus CPython's queue.Queue
// on the same shapes and prints the ratio tables of bench/RESULTS.md.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "queue_workloads.hpp"
#include "weft/queue.hpp"

#if defined(WEFT_HAVE_TBB)
#include <tbb/concurrent_queue.h>
#endif
#if defined(WEFT_HAVE_BOOST_THREAD)
#include <boost/thread/concurrent_queues/sync_bounded_queue.hpp>
#include <boost/thread/concurrent_queues/sync_queue.hpp>
#endif

namespace {

using bench::Item;
using bench::timed_transfer;
constexpr std::size_t kBound = 1024;
constexpr int kItems = 1 << 17;

// ---- the textbook queue ---------------------------------------------------------------------

class TextbookQueue {
 public:
  explicit TextbookQueue(std::size_t maxsize) : maxsize_(maxsize) {}
  void put(Item v) {
    std::unique_lock<std::mutex> lock(m_);
    not_full_.wait(lock, [&] { return maxsize_ == 0 || q_.size() < maxsize_; });
    q_.push_back(v);
    lock.unlock();
    not_empty_.notify_one();
  }
  Item get() {
    std::unique_lock<std::mutex> lock(m_);
    not_empty_.wait(lock, [&] { return !q_.empty(); });
    const Item v = q_.front();
    q_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return v;
  }

 private:
  std::mutex m_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Item> q_;
  std::size_t maxsize_;
};

// ---- adapters: make(maxsize), put, get ----------------------------------------------------

using bench::WeftQueue;

struct WeftSimpleQueue {
  using Q = weft::SimpleQueue<Item>;
  static std::unique_ptr<Q> make(std::size_t) { return std::make_unique<Q>(); }
  static void put(Q& q, Item v) { q.put(v); }
  static Item get(Q& q) { return q.get(); }
};

struct Textbook {
  using Q = TextbookQueue;
  static std::unique_ptr<Q> make(std::size_t maxsize) { return std::make_unique<Q>(maxsize); }
  static void put(Q& q, Item v) { q.put(v); }
  static Item get(Q& q) { return q.get(); }
};

#if defined(WEFT_HAVE_MOODYCAMEL)
using bench::Moodycamel;
#endif

#if defined(WEFT_HAVE_TBB)
struct Tbb {
  using Q = tbb::concurrent_bounded_queue<Item>;
  static std::unique_ptr<Q> make(std::size_t maxsize) {
    auto q = std::make_unique<Q>();
    if (maxsize != 0) q->set_capacity(static_cast<std::ptrdiff_t>(maxsize));
    return q;
  }
  static void put(Q& q, Item v) { q.push(v); }
  static Item get(Q& q) {
    Item v;
    q.pop(v);
    return v;
  }
};
#endif

#if defined(WEFT_HAVE_BOOST_THREAD)
struct BoostBounded {
  using Q = boost::sync_bounded_queue<Item>;
  static std::unique_ptr<Q> make(std::size_t maxsize) { return std::make_unique<Q>(maxsize); }
  static void put(Q& q, Item v) { q.push_back(v); }
  static Item get(Q& q) { return q.pull_front(); }
};
struct BoostUnbounded {
  using Q = boost::sync_queue<Item>;
  static std::unique_ptr<Q> make(std::size_t) { return std::make_unique<Q>(); }
  static void put(Q& q, Item v) { q.push(v); }
  static Item get(Q& q) {
    Item v;
    q.pull(v);
    return v;
  }
};
#endif

// ---- hand-off -------------------------------------------------------------------------------

// Runs P producers and C consumers over one queue; returns the wall time of the transfer.
template <class A>
double handoff_once(int producers, int consumers, std::size_t maxsize) {
  return bench::handoff_once<A>(producers, consumers, maxsize, kItems);
}

// weft::Queue moving items in batches of up to kBatch under one lock acquisition
// (put_many / get_many): the same transfer, fewer lock round trips and wake-ups.
constexpr std::size_t kBatch = 64;

double handoff_batched_once(int producers, int consumers, std::size_t maxsize) {
  weft::Queue<Item> q(maxsize);
  std::atomic<long> left{kItems};
  const int per_producer = kItems / producers;
  return timed_transfer(
      producers, consumers, kItems,
      [&](int p) {
        const Item base = static_cast<Item>(p) * static_cast<Item>(per_producer);
        std::vector<Item> batch(kBatch);
        for (int i = 0; i < per_producer;) {
          const int n = std::min(static_cast<int>(kBatch), per_producer - i);
          for (int k = 0; k < n; ++k)
            batch[static_cast<std::size_t>(k)] = base + static_cast<Item>(i + k);
          q.put_many(std::span<Item>(batch.data(), static_cast<std::size_t>(n)));
          i += n;
        }
      },
      [&] {
        Item sum = 0;
        try {
          for (;;) {
            auto got = q.get_many(kBatch);
            for (Item v : got) sum += v;
            if (left.fetch_sub(static_cast<long>(got.size())) == static_cast<long>(got.size()))
              q.shutdown();  // the last item: release the other consumers
          }
        } catch (const weft::ShutDown&) {
        }
        return sum;
      });
}

void BM_HandoffBatched(benchmark::State& state) {
  const int p = static_cast<int>(state.range(0));
  const int c = static_cast<int>(state.range(1));
  const std::size_t maxsize = static_cast<std::size_t>(state.range(2));
  for (auto _ : state) state.SetIterationTime(handoff_batched_once(p, c, maxsize));
  state.SetItemsProcessed(state.iterations() * kItems);
}

template <class A>
void BM_Handoff(benchmark::State& state) {
  const int p = static_cast<int>(state.range(0));
  const int c = static_cast<int>(state.range(1));
  const std::size_t maxsize = static_cast<std::size_t>(state.range(2));
  for (auto _ : state) state.SetIterationTime(handoff_once<A>(p, c, maxsize));
  state.SetItemsProcessed(state.iterations() * kItems);
}

void shapes_bounded(benchmark::internal::Benchmark* b) {
  for (int n : {1, 2, 4, 16}) b->Args({n, n, static_cast<long>(kBound)});
}
void shapes_unbounded(benchmark::internal::Benchmark* b) {
  for (int n : {1, 2, 4, 16}) b->Args({n, n, 0});
}

#define WEFT_HANDOFF(name, adapter, shapes)                                              \
  BENCHMARK_TEMPLATE(BM_Handoff, adapter)                                                \
      ->Name("Handoff/" name)                                                            \
      ->Apply(shapes)                                                                    \
      ->ArgNames({"P", "C", "bound"})                                                    \
      ->UseManualTime()                                                                  \
      ->Unit(benchmark::kMillisecond)                                                    \
      ->MinTime(0.3)

WEFT_HANDOFF("weft::Queue", WeftQueue, shapes_bounded);
WEFT_HANDOFF("weft::Queue", WeftQueue, shapes_unbounded);
WEFT_HANDOFF("weft::SimpleQueue", WeftSimpleQueue, shapes_unbounded);
BENCHMARK(BM_HandoffBatched)->Name("Handoff/weft::Queue put_many+get_many(64)")->Apply(shapes_bounded)
    ->ArgNames({"P", "C", "bound"})->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);
BENCHMARK(BM_HandoffBatched)->Name("Handoff/weft::Queue put_many+get_many(64)")->Apply(shapes_unbounded)
    ->ArgNames({"P", "C", "bound"})->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);
WEFT_HANDOFF("textbook", Textbook, shapes_bounded);
WEFT_HANDOFF("textbook", Textbook, shapes_unbounded);
#if defined(WEFT_HAVE_MOODYCAMEL)
WEFT_HANDOFF("moodycamel::BlockingConcurrentQueue", Moodycamel, shapes_unbounded);
#endif
#if defined(WEFT_HAVE_TBB)
WEFT_HANDOFF("tbb::concurrent_bounded_queue", Tbb, shapes_bounded);
WEFT_HANDOFF("tbb::concurrent_bounded_queue", Tbb, shapes_unbounded);
#endif
#if defined(WEFT_HAVE_BOOST_THREAD)
WEFT_HANDOFF("boost::sync_bounded_queue", BoostBounded, shapes_bounded);
WEFT_HANDOFF("boost::sync_queue", BoostUnbounded, shapes_unbounded);
#endif

// ---- ping-pong ------------------------------------------------------------------------------

constexpr int kRoundTrips = 20000;

template <class A>
void BM_PingPong(benchmark::State& state) {
  for (auto _ : state) state.SetIterationTime(bench::pingpong_once<A>(kRoundTrips));
  state.SetItemsProcessed(state.iterations() * kRoundTrips);
  state.counters["ns_per_round_trip"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kRoundTrips),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// The floor: one cache line bounced between two threads that spin on it.
void BM_PingPong_AtomicSpin(benchmark::State& state) {
  for (auto _ : state) {
    alignas(64) std::atomic<std::uint64_t> ball{0};
    std::thread echo([&] {
      for (std::uint64_t i = 0; i < kRoundTrips; ++i) {
        while (ball.load(std::memory_order_acquire) != 2 * i + 1) {
        }
        ball.store(2 * i + 2, std::memory_order_release);
      }
    });
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < kRoundTrips; ++i) {
      ball.store(2 * i + 1, std::memory_order_release);
      while (ball.load(std::memory_order_acquire) != 2 * i + 2) {
      }
    }
    const auto stop = std::chrono::steady_clock::now();
    echo.join();
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
  }
  state.SetItemsProcessed(state.iterations() * kRoundTrips);
  state.counters["ns_per_round_trip"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kRoundTrips),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

#define WEFT_PINGPONG(name, adapter) \
  BENCHMARK_TEMPLATE(BM_PingPong, adapter)->Name("PingPong/" name)->UseManualTime()->MinTime(0.3)

BENCHMARK(BM_PingPong_AtomicSpin)->Name("PingPong/AtomicSpin")->UseManualTime()->MinTime(0.3);
WEFT_PINGPONG("weft::Queue", WeftQueue);
WEFT_PINGPONG("weft::SimpleQueue", WeftSimpleQueue);
WEFT_PINGPONG("textbook", Textbook);
#if defined(WEFT_HAVE_MOODYCAMEL)
WEFT_PINGPONG("moodycamel::BlockingConcurrentQueue", Moodycamel);
#endif
#if defined(WEFT_HAVE_TBB)
WEFT_PINGPONG("tbb::concurrent_bounded_queue", Tbb);
#endif
#if defined(WEFT_HAVE_BOOST_THREAD)
WEFT_PINGPONG("boost::sync_queue", BoostUnbounded);
#endif

// ---- memory ---------------------------------------------------------------------------------

constexpr int kMemoryItems = 1000000;

// Bytes the C heap holds now (glibc arenas + mmapped chunks). Allocators that bypass
// malloc (oneTBB's scalable allocator) are not seen: their rows say 0.
long long heap_in_use() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<long long>(mi.uordblks + mi.hblkhd);
}

template <class Q, class Make, class Put>
void memory_rows(benchmark::State& state, Make make, Put put) {
  for (auto _ : state) {
    std::optional<Q> q;
    const long long before = heap_in_use();
    make(q);
    const long long empty_heap = heap_in_use() - before;
    for (int i = 0; i < kMemoryItems; ++i) put(*q, i);
    const long long full_heap = heap_in_use() - before;
    state.counters["sizeof"] = static_cast<double>(sizeof(Q));
    state.counters["empty_heap_bytes"] = static_cast<double>(empty_heap);
    state.counters["bytes_per_int"] =
        static_cast<double>(full_heap - empty_heap) / static_cast<double>(kMemoryItems);
  }
}

void BM_Memory_WeftQueue(benchmark::State& state) {
  memory_rows<weft::Queue<int>>(
      state, [](auto& q) { q.emplace(); },
      [](weft::Queue<int>& q, int v) { q.put(v); });
}
void BM_Memory_WeftSimpleQueue(benchmark::State& state) {
  memory_rows<weft::SimpleQueue<int>>(
      state, [](auto& q) { q.emplace(); },
      [](weft::SimpleQueue<int>& q, int v) { q.put(v); });
}
struct TextbookIntQueue {
  std::mutex m;
  std::condition_variable a, b;
  std::deque<int> q;
};
void BM_Memory_Textbook(benchmark::State& state) {
  memory_rows<TextbookIntQueue>(
      state, [](auto& q) { q.emplace(); },
      [](TextbookIntQueue& q, int v) { q.q.push_back(v); });
}
#if defined(WEFT_HAVE_MOODYCAMEL)
void BM_Memory_Moodycamel(benchmark::State& state) {
  using Q = moodycamel::BlockingConcurrentQueue<int>;
  memory_rows<Q>(state, [](auto& q) { q.emplace(); }, [](Q& q, int v) { q.enqueue(v); });
}
BENCHMARK(BM_Memory_Moodycamel)->Name("Memory/moodycamel::BlockingConcurrentQueue")->Iterations(1);
#endif
#if defined(WEFT_HAVE_TBB)
void BM_Memory_Tbb(benchmark::State& state) {
  using Q = tbb::concurrent_bounded_queue<int>;
  memory_rows<Q>(state, [](auto& q) { q.emplace(); }, [](Q& q, int v) { q.push(v); });
}
BENCHMARK(BM_Memory_Tbb)->Name("Memory/tbb::concurrent_bounded_queue")->Iterations(1);
#endif
BENCHMARK(BM_Memory_WeftQueue)->Name("Memory/weft::Queue")->Iterations(1);
BENCHMARK(BM_Memory_WeftSimpleQueue)->Name("Memory/weft::SimpleQueue")->Iterations(1);
BENCHMARK(BM_Memory_Textbook)->Name("Memory/textbook")->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
#if !defined(WEFT_HAVE_MOODYCAMEL)
  std::printf("skipping moodycamel::BlockingConcurrentQueue: anchor not found\n");
#endif
#if !defined(WEFT_HAVE_TBB)
  std::printf("skipping tbb::concurrent_bounded_queue: anchor not found\n");
#endif
#if !defined(WEFT_HAVE_BOOST_THREAD)
  std::printf("skipping boost::sync_bounded_queue: anchor not found\n");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
