// SPDX-License-Identifier: Apache-2.0
// weft/detail/backoff.hpp: the spin loop of weft's waits, bounded by count. (The one
// other spin is a FIFO queue waiter's lead of 128 pauses when it waits alone,
// src/queue/queue_wait.hpp, before it spins with Backoff.)
//
// A waiter spins briefly before it parks because waking a thread that sleeps in the
// kernel costs tens of microseconds while a cache-line hand-off costs tens of
// nanoseconds. Backoff bounds that spin: kPauseRounds rounds of 2^round pause
// instructions (15 pauses, about 0.4 us where a pause costs 25 ns), then kYieldRounds
// rounds that yield the core (which lets a preempted lock holder run when threads
// outnumber cores). After that done() is true and the caller must park. A thread that
// is already queued in the parking lot, waiting to be unparked, yields longer
// (Backoff(yield_rounds), see src/park/parking_lot.cpp).
//
// The pause budget is short because a spinner that cannot succeed only takes the core
// its partner needs to wake up and answer (bench/RESULTS.md, "Backoff pause rounds").
#pragma once

#include <cstdint>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace weft::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

class Backoff {
 public:
  static constexpr std::uint32_t kPauseRounds = 4;
  static constexpr std::uint32_t kYieldRounds = 3;
  static constexpr std::uint32_t kSpinLimit = kPauseRounds + kYieldRounds;

  Backoff() = default;
  // A budget of kPauseRounds pause rounds and then `yield_rounds` yields.
  explicit Backoff(std::uint32_t yield_rounds) noexcept : limit_(kPauseRounds + yield_rounds) {}

  // One round of spinning. Returns false, without spinning, once the budget is spent:
  // the caller must park now.
  bool spin() noexcept {
    if (round_ >= limit_) return false;
    if (round_ < kPauseRounds) {
      for (std::uint32_t i = 0, n = 1u << round_; i < n; ++i) cpu_relax();
    } else {
      std::this_thread::yield();
    }
    ++round_;
    return true;
  }

  bool done() const noexcept { return round_ >= limit_; }
  void reset() noexcept { round_ = 0; }

 private:
  std::uint32_t round_ = 0;
  std::uint32_t limit_ = kSpinLimit;
};

}  // namespace weft::detail
