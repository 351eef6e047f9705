// SPDX-License-Identifier: Apache-2.0
// bench/workloads.hpp: the work the executor benchmarks hand to their pools.
#pragma once

#include <cstdint>

namespace bench {

// Both workloads are out of line, 64-byte aligned, and every side of a comparison calls
// the same copy: the one-thread anchor, std::threads, pool workers and worker processes run
// the same machine code. (An inlined copy sits at another alignment, and a tight loop's
// speed on this kind of VM depends on it: up to 1.5x on the CPU-bound sum.)
#define WEFT_BENCH_WORKLOAD [[gnu::noinline, gnu::aligned(64)]]

// ~1 us of arithmetic that the optimiser cannot remove (a 64-bit LCG, 1200 steps).
WEFT_BENCH_WORKLOAD inline std::uint64_t micro_work(std::uint64_t seed) {
  std::uint64_t x = seed | 1;
  for (int i = 0; i < 1200; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x;
}

// gil_demo.py's cpu_bound_task, as a plain function so a worker process can run it
// (unsigned: it wraps where Python's integers grow, instead of overflowing).
WEFT_BENCH_WORKLOAD inline std::uint64_t cpu_bound_task(std::uint64_t n) {
  std::uint64_t count = 0;
  for (std::uint64_t i = 0; i < n; ++i) count += i * i;
  return count;
}

}  // namespace bench
