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

// A FIFO waiter that is alone on its side (the only getter, or the only putter, spinning
// right now) may first spin this many pauses, about 2.5 us where a pause costs 20 ns,
// before Backoff's rounds: a partner running on another core answers within that, and a
// yield would cost more than the wait (bench/RESULTS.md, "Queue spin rounds").
inline constexpr std::uint32_t kLoneWaiterPauses = 128;
// A wait that ended within this many pauses was short: the other side is streaming items
// (or room), and a waiter that keeps polling would only slow it down.
inline constexpr std::uint32_t kShortWaitPauses = 16;

// Spins (no lock held) while `still_waiting` holds: `pauses` pauses (checking every
// fourth), then at most kQueueSpinRounds Backoff rounds. Returns whether it stopped
// holding; `short_wait` says it stopped within kShortWaitPauses pauses.
template <class Pred>
inline bool spin_while(Pred still_waiting, std::uint32_t pauses, bool& short_wait) {
  short_wait = false;
  std::uint32_t spent = 0;
  for (; spent < pauses; ++spent) {
    cpu_relax();
    if (spent % 4 == 3 && !still_waiting()) {
      short_wait = spent < kShortWaitPauses;
      return true;
    }
  }
  Backoff backoff;
  std::uint32_t rounds = 0;
  while (rounds++ < kQueueSpinRounds && backoff.spin()) {
    if (!still_waiting()) {
      short_wait = spent + (1u << rounds) <= kShortWaitPauses;  // rounds of 1, 2, 4, 8 pauses
      return true;
    }
  }
  return false;
}

// Spins (no lock held) while `still_waiting` holds, at most kQueueSpinRounds rounds; true
// if it stopped holding.
template <class Pred>
inline bool spin_while(Pred still_waiting) {
  bool short_wait = false;
  return spin_while(still_waiting, 0, short_wait);
}

// As spin_while(still_waiting), with `lock` released meanwhile (held on entry and exit).
template <class Pred>
inline bool spin_while(InternalLock& lock, Pred still_waiting, SourceLoc loc) {
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
