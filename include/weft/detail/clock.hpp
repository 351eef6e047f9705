// SPDX-License-Identifier: Apache-2.0
// weft/detail/clock.hpp: L0, weft::clock, the clock of every timed weft call.
//
// Outside a virtual-time bubble (<weft/testing.hpp>) weft::clock is std::chrono::steady_clock:
// same epoch, same ticks, so its time points convert to steady_clock ones by their
// time_since_epoch() (to_steady below; L0 does so for the OS wait). Inside a bubble now()
// is the bubble's virtual time, which advances only when every thread of the bubble is
// blocked in weft (src/park/bubble.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace weft {
namespace detail {

// The virtual time of a bubble, in nanoseconds since weft::clock's epoch. The bubble
// (L1) writes it while every thread of the bubble is blocked and then wakes the threads
// whose deadline came, so a thread that wakes sees the new value.
struct VirtualTime {
  std::atomic<std::int64_t> now_ns{0};
};

// The virtual time of the calling thread's bubble; nullptr outside a bubble (one
// thread_local read). Set by the bubble when a thread enters or leaves it.
VirtualTime* current_virtual_time() noexcept;
void set_current_virtual_time(VirtualTime* time) noexcept;

}  // namespace detail

// A C++ Clock (Cpp17TrivialClock): steady time outside a bubble, the bubble's virtual time
// inside one. Every timeout, deadline, Timer interval and weft::sleep is measured on it.
struct clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<clock>;
  static constexpr bool is_steady = true;
  // Never throws. Cost outside a bubble: steady_clock::now() plus one thread_local load.
  static time_point now() noexcept;
};

namespace detail {

// Steady time as a weft::clock time point, inside a bubble too: for what measures real
// time (the debug tools' timestamps, the parking lot's fairness period).
inline clock::time_point real_now() noexcept {
  return clock::time_point(std::chrono::duration_cast<clock::duration>(
      std::chrono::steady_clock::now().time_since_epoch()));
}

// The steady_clock time point of a weft::clock time point taken outside a bubble.
inline std::chrono::steady_clock::time_point to_steady(clock::time_point t) noexcept {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.time_since_epoch()));
}

}  // namespace detail
}  // namespace weft
