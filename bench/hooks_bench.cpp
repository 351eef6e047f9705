// SPDX-License-Identifier: Apache-2.0
// What the debug hooks cost while every tool is off.
//
// Each primitive checks detail::debug_on() (one relaxed load, one predictable branch)
// before its inline fast path and in its slow paths. Measured two ways:
//   1. in this binary: weft::Lock beside PlainLock, a copy of Lock's inline fast paths
//      without the check;
//   2. across builds: this same program built normally and built with
//      -DWEFT_NO_DEBUG_HOOKS (debug_on() is constant false, the hooks vanish from the
//      library and the headers); its label says which. bench/RESULTS.md has both runs.
// Workloads: an uncontended acquire + release, and a 1P1C hand-off through a bounded
// weft::Queue<int>(1024) (producer puts, a consumer thread gets; time per item).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "fast_paths.hpp"
#include "weft/lock.hpp"

namespace {

#if defined(WEFT_NO_DEBUG_HOOKS)
constexpr const char* kBuild = "hooks compiled out";
#else
constexpr const char* kBuild = "hooks compiled in, off";
#endif

// weft::Lock's uncontended paths, minus the debug_on() check. The contended path only
// needs to be correct here (it never runs in the uncontended benchmark).
class PlainLock {
 public:
  void acquire() {
    std::uint8_t expected = 0;
    if (state_.compare_exchange_weak(expected, 1, std::memory_order_acquire,
                                     std::memory_order_relaxed))
      return;
    for (;;) {
      expected = 0;
      if (state_.compare_exchange_weak(expected, 1, std::memory_order_acquire,
                                       std::memory_order_relaxed))
        return;
      std::this_thread::yield();
    }
  }
  void release() {
    std::uint8_t expected = 1;
    state_.compare_exchange_strong(expected, 0, std::memory_order_release,
                                   std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint8_t> state_{0};
};

void BM_LockUncontended_Weft(benchmark::State& state) {
  bench::lock_uncontended<weft::Lock>(state);
  state.SetLabel(kBuild);
}
BENCHMARK(BM_LockUncontended_Weft);

void BM_LockUncontended_PlainCopy(benchmark::State& state) {
  bench::lock_uncontended<PlainLock>(state);
  state.SetLabel("no check at all");
}
BENCHMARK(BM_LockUncontended_PlainCopy);

void BM_Handoff1P1C_WeftQueue(benchmark::State& state) {
  bench::handoff_1p1c(state);
  state.SetLabel(kBuild);
}
BENCHMARK(BM_Handoff1P1C_WeftQueue)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
