// SPDX-License-Identifier: Apache-2.0
// src/queue/queue_wait.hpp: the spin and wake helpers both queue engines' wait paths use
// (private to src/queue).
#pragma once

#include <cstddef>
#include <cstdint>

#include "weft/detail/backoff.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/lock.hpp"

namespace weft::detail {

// How many Backoff rounds a waiting getter / putter spins before it parks: all of them,
// pause rounds, then yield rounds (a yield lets the other side run on a loaded machine;
// bench/RESULTS.md, "Queue spin rounds").
inline constexpr std::uint32_t kQueueSpinRounds = Backoff::kSpinLimit;

// Spins (no lock held) while `still_waiting` holds, at most kQueueSpinRounds rounds; true
// if it stopped holding.
template <class Pred>
inline bool spin_while(Pred still_waiting) {
  Backoff backoff;
  std::uint32_t rounds = 0;
  while (rounds++ < kQueueSpinRounds && backoff.spin()) {
    if (!still_waiting()) return true;
  }
  return false;
}

// As spin_while(still_waiting), with `lock` released meanwhile (held on entry and exit).
template <class Pred>
inline bool spin_while(Lock& lock, Pred still_waiting, SourceLoc loc) {
  lock.release();
  const bool changed = spin_while(still_waiting);
  lock.acquire(true, loc);
  return changed;
}

// True if a timed wait's deadline has passed (never for kForever).
inline bool passed(Deadline deadline) {
  return deadline != kForever && Clock::now() >= deadline;
}

// Unparks up to n threads parked on `key`.
inline void unpark_up_to(const void* key, std::size_t n) noexcept {
  if (n == 1) {
    unpark_one(key);
  } else {
    unpark_n(key, n);
  }
}

}  // namespace weft::detail
