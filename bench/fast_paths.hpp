// SPDX-License-Identifier: Apache-2.0
// bench/fast_paths.hpp: the fast paths that must not get slower when weft gains a feature
// (the debug hooks, cancellation), as Google Benchmark loops.
#pragma once

#include <benchmark/benchmark.h>

#include <thread>

#include "weft/lock.hpp"
#include "weft/queue.hpp"

namespace bench {

// An uncontended acquire + release of `LockType` (weft::Lock, or a copy to compare with).
template <class LockType>
void lock_uncontended(benchmark::State& state) {
  LockType lock;
  for (auto _ : state) {
    lock.acquire();
    benchmark::ClobberMemory();
    lock.release();
  }
}

// A 1P1C hand-off through a bounded weft::Queue<int>(1024): the benchmark's thread puts
// 4096 items per iteration, a consumer thread gets them.
inline void handoff_1p1c(benchmark::State& state) {
  weft::Queue<int> q(1024);
  std::thread consumer([&] {
    for (;;) {
      const int v = q.get();
      if (v < 0) return;
      benchmark::DoNotOptimize(v);
    }
  });
  constexpr int kBatch = 4096;
  for (auto _ : state)
    for (int i = 0; i < kBatch; ++i) q.put(i);
  q.put(-1);
  consumer.join();
  state.SetItemsProcessed(state.iterations() * kBatch);
}

}  // namespace bench
