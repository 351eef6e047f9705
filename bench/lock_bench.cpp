// SPDX-License-Identifier: Apache-2.0
// Lock: uncontended acquire + release, and 2/4/16 threads incrementing one shared
// counter, side by side with std::mutex, oneTBB mutex / spin_mutex and absl::Mutex.
// fairness/<lock>: 16 threads each add the same share to one counter; how early the
// first of them finishes, as a fraction of the whole run's wall time.
//
// Counters: "sizeof" (bytes of the lock object); items_per_second for the contended
// runs is increments per second over all threads (wall clock); for fairness runs,
// "first_finish" is the mean of (first thread's finish time / wall time) over the
// rounds and "first_finish_worst" the lowest round (1.0: every thread finished at the
// end together; 1/16: one thread did its share before any other did anything).
// bench/run.sh turns the medians into bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "fairness.hpp"
#include "weft/lock.hpp"

#if WEFT_HAVE_TBB
#include <oneapi/tbb/mutex.h>
#include <oneapi/tbb/spin_mutex.h>
#endif
#if WEFT_HAVE_ABSL
#include <absl/synchronization/mutex.h>
#endif

namespace {

// One adapter per lock so every benchmark body is the same code.
struct WeftLock {
  static constexpr const char* kName = "weft::Lock";
  weft::Lock m;
  void lock() { m.acquire(); }
  void unlock() { m.release(); }
};
struct StdMutex {
  static constexpr const char* kName = "std::mutex";
  std::mutex m;
  void lock() { m.lock(); }
  void unlock() { m.unlock(); }
};
#if WEFT_HAVE_TBB
struct TbbMutex {
  static constexpr const char* kName = "tbb::mutex";
  tbb::mutex m;
  void lock() { m.lock(); }
  void unlock() { m.unlock(); }
};
struct TbbSpinMutex {
  static constexpr const char* kName = "tbb::spin_mutex";
  tbb::spin_mutex m;
  void lock() { m.lock(); }
  void unlock() { m.unlock(); }
};
#endif
#if WEFT_HAVE_ABSL
struct AbslMutex {
  static constexpr const char* kName = "absl::Mutex";
  absl::Mutex m;
  void lock() { m.Lock(); }
  void unlock() { m.Unlock(); }
};
#endif

template <class L>
std::size_t lock_size() {
  return sizeof(L::m);
}

template <class L>
void BM_Uncontended(benchmark::State& state) {
  L lock;
  std::uint64_t counter = 0;
  for (auto _ : state) {
    lock.lock();
    ++counter;
    benchmark::DoNotOptimize(counter);
    lock.unlock();
  }
  state.counters["sizeof"] = static_cast<double>(lock_size<L>());
  state.SetItemsProcessed(state.iterations());
}

// Shared by the threads of one contended run (Google Benchmark runs the threads of a
// benchmark against the same static instance).
template <class L>
struct Shared {
  static inline L lock;
  alignas(64) static inline std::uint64_t counter = 0;
};

template <class L>
void BM_Contended(benchmark::State& state) {
  if (state.thread_index() == 0) Shared<L>::counter = 0;
  for (auto _ : state) {
    Shared<L>::lock.lock();
    ++Shared<L>::counter;
    Shared<L>::lock.unlock();
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) state.counters["sizeof"] = static_cast<double>(lock_size<L>());
}

template <class L>
void BM_Fairness(benchmark::State& state) {
  constexpr int kThreads = 16;
  constexpr std::uint64_t kShare = 500'000;
  L lock;
  double sum = 0, worst = 1;
  for (auto _ : state) {
    const double ratio = bench::fairness_round(lock, kThreads, kShare).first_finish;
    sum += ratio;
    worst = std::min(worst, ratio);
  }
  state.counters["first_finish"] = sum / static_cast<double>(state.iterations());
  state.counters["first_finish_worst"] = worst;
  state.SetItemsProcessed(state.iterations() * kThreads * static_cast<std::int64_t>(kShare));
}

template <class L>
void register_lock() {
  benchmark::RegisterBenchmark((std::string("uncontended/") + L::kName).c_str(), BM_Uncontended<L>);
  benchmark::RegisterBenchmark((std::string("contended/") + L::kName).c_str(), BM_Contended<L>)
      ->Threads(2)
      ->Threads(4)
      ->Threads(16)
      ->UseRealTime();
  benchmark::RegisterBenchmark((std::string("fairness/") + L::kName).c_str(), BM_Fairness<L>)
      ->Iterations(5)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_lock<WeftLock>();
  register_lock<StdMutex>();
#if WEFT_HAVE_TBB
  register_lock<TbbMutex>();
  register_lock<TbbSpinMutex>();
#else
  std::fprintf(stderr, "lock_bench: oneTBB not found, tbb::mutex and tbb::spin_mutex skipped\n");
#endif
#if WEFT_HAVE_ABSL
  register_lock<AbslMutex>();
#else
  std::fprintf(stderr, "lock_bench: Abseil not found, absl::Mutex skipped\n");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
