// SPDX-License-Identifier: Apache-2.0
// bench/fairness.hpp: one round of the 16-thread lock fairness run.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <latch>
#include <thread>
#include <vector>

namespace bench {

struct FairnessRound {
  double first_finish = 1;  // the first finisher's time / wall time (1/threads .. 1)
  double seconds = 0;       // wall time, from the first thread past the latch
};

// `threads` threads meet at a latch, then each adds `share` to one counter under `lock`
// (anything with lock() and unlock()). Both times are counted from the first thread past
// the latch. Aborts if an increment was lost.
template <class L>
FairnessRound fairness_round(L& lock, int threads, std::uint64_t share) {
  using Clock = std::chrono::steady_clock;
  std::uint64_t counter = 0;
  std::vector<Clock::time_point> started(static_cast<std::size_t>(threads)),
      finished(static_cast<std::size_t>(threads));
  std::latch start(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      start.arrive_and_wait();
      started[static_cast<std::size_t>(t)] = Clock::now();
      for (std::uint64_t i = 0; i < share; ++i) {
        lock.lock();
        ++counter;
        lock.unlock();
      }
      finished[static_cast<std::size_t>(t)] = Clock::now();
    });
  for (auto& th : pool) th.join();
  if (counter != share * static_cast<std::uint64_t>(threads)) std::abort();
  const auto begin = *std::min_element(started.begin(), started.end());
  const auto [first, last] = std::minmax_element(finished.begin(), finished.end());
  FairnessRound r;
  r.seconds = std::chrono::duration<double>(*last - begin).count();
  if (r.seconds > 0) r.first_finish = std::chrono::duration<double>(*first - begin).count() / r.seconds;
  return r;
}

}  // namespace bench
