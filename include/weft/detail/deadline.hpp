// SPDX-License-Identifier: Apache-2.0
// weft/detail/deadline.hpp: turning any std::chrono duration into a steady_clock deadline.
//
// Every timed wait in weft converts its timeout once, with saturation, and then waits
// for an absolute deadline, so spurious wake-ups never stretch the total wait.
#pragma once

#include <chrono>

namespace weft::detail {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// The deadline of an untimed wait.
inline constexpr Deadline kForever = Deadline::max();

// now + timeout, saturating at kForever; a zero or negative timeout gives a deadline
// that has already passed (an immediate try).
template <class Rep, class Period>
Deadline deadline_after(std::chrono::duration<Rep, Period> timeout) noexcept {
  using std::chrono::duration;
  using std::chrono::nanoseconds;
  const Deadline now = Clock::now();
  if (timeout <= timeout.zero()) return now;
  // Compare in floating point to catch overflow of any representation.
  const long double remaining =
      static_cast<long double>((kForever - now).count()) * Clock::period::num / Clock::period::den;
  const long double wanted = static_cast<long double>(timeout.count()) * Period::num / Period::den;
  if (wanted >= remaining) return kForever;
  return now + std::chrono::ceil<Clock::duration>(duration<long double, Period>(timeout.count()));
}

// Converts another clock's time point to a steady_clock deadline (for try_lock_until).
template <class C, class D>
Deadline to_deadline(std::chrono::time_point<C, D> when) noexcept {
  if constexpr (std::is_same_v<C, Clock>) {
    return std::chrono::time_point_cast<Clock::duration>(when);
  } else {
    return deadline_after(when - C::now());
  }
}

}  // namespace weft::detail
