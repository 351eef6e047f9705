// SPDX-License-Identifier: Apache-2.0
// weft/detail/deadline.hpp: turning any std::chrono duration or time point into a
// weft::clock deadline (steady time outside a virtual-time bubble, virtual time inside).
//
// Every timed wait in weft converts its timeout once, here, and then waits for an
// absolute deadline, so spurious wake-ups never stretch the total wait. The conversion
// saturates and never overflows, for every representation and clock:
//   - a zero or negative timeout, a time point already passed, duration::min(),
//     time_point::min() and -infinity give kImmediate (one try, never block);
//   - a timeout or time point beyond what weft::clock can represent, duration::max(),
//     time_point::max() and +infinity give kForever (wait without a deadline);
//   - a NaN timeout or time point throws ValueError (as CPython does).
#pragma once

#include <chrono>
#include <limits>
#include <optional>
#include <ratio>
#include <type_traits>

#include "weft/detail/clock.hpp"
#include "weft/detail/config.hpp"
#include "weft/detail/link_debug_tools.hpp"

namespace weft::detail {

using Clock = weft::clock;
using Deadline = Clock::time_point;

// The deadline of an untimed wait.
inline constexpr Deadline kForever = Deadline::max();
// The deadline of a non-blocking try (acquire(false), zero or negative timeouts): it has
// always passed. Consumers compare deadlines, never subtract from them.
inline constexpr Deadline kImmediate = Deadline::min();

// The cold, out-of-line part (src/wait/deadline.cpp). `ticks` count Clock::duration.
[[noreturn]] WEFT_COLD void throw_nan_timeout();
WEFT_COLD Deadline deadline_after_ticks(long double ticks);  // now + ticks, saturating
WEFT_COLD Deadline deadline_at_ticks(long double ticks);     // epoch + ticks, saturating

// A timeout's length in Clock ticks, as a long double (exact for 64-bit integer counts
// where long double has a 64-bit mantissa).
template <class Rep, class Period>
long double to_clock_ticks(std::chrono::duration<Rep, Period> d) noexcept {
  using Ratio = std::ratio_divide<Period, Clock::period>;
  return static_cast<long double>(d.count()) * Ratio::num / Ratio::den;
}

// Throws ValueError if the timeout is NaN. Free for integer representations. The timed
// calls check this before their fast path, so a NaN throws whatever the object's state.
template <class Rep, class Period>
void check_timeout(std::chrono::duration<Rep, Period> timeout) {
  if constexpr (!std::is_integral_v<Rep>) {
    if (WEFT_UNLIKELY(!(timeout.count() == timeout.count()))) throw_nan_timeout();
  }
}

// The largest count of duration<Rep, Period> that is at most 100 years: adding it to a
// weft::clock time point under 100 years cannot overflow (the range is +-292 years).
template <class Rep, class Period>
constexpr Rep safe_timeout_count() noexcept {
  constexpr long double kHundredYearsInTicks =
      static_cast<long double>(std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::years(100))
                                   .count());
  using Ratio = std::ratio_divide<Period, Clock::period>;
  constexpr long double limit = kHundredYearsInTicks * Ratio::den / Ratio::num;
  if (limit >= static_cast<long double>(std::numeric_limits<Rep>::max()))
    return std::numeric_limits<Rep>::max();
  return static_cast<Rep>(limit);
}

// now + timeout, saturating (see the top of this file). Throws: ValueError for NaN.
// Integer timeouts under 100 years take an inline path with no floating point.
template <class Rep, class Period>
Deadline deadline_after(std::chrono::duration<Rep, Period> timeout) {
  if constexpr (std::is_integral_v<Rep>) {
    if (timeout <= timeout.zero()) return kImmediate;
    if (timeout.count() <= safe_timeout_count<Rep, Period>()) {
      const Deadline now = Clock::now();
      constexpr auto kSafeNow = std::chrono::duration_cast<Clock::duration>(std::chrono::years(100));
      if (WEFT_LIKELY(now.time_since_epoch() <= kSafeNow))
        return now + std::chrono::ceil<Clock::duration>(timeout);
    }
  }
  return deadline_after_ticks(to_clock_ticks(timeout));
}

// The deadline of an optional timeout: kForever for none (Python's timeout=None),
// otherwise deadline_after(*timeout). Throws: ValueError for NaN.
template <class D>
Deadline deadline_from(const std::optional<D>& timeout) {
  return timeout ? deadline_after(*timeout) : kForever;
}

// The weft::clock deadline of a time point of any clock, saturating (see the top of
// this file). Another clock's time point is converted once, by the time left on that
// clock now; later adjustments of that clock do not move the deadline.
// Throws: ValueError for NaN.
template <class C, class D>
Deadline to_deadline(std::chrono::time_point<C, D> when) {
  if constexpr (std::is_same_v<C, Clock> && std::is_same_v<D, Clock::duration>) {
    return when;
  } else if constexpr (std::is_same_v<C, Clock>) {
    return deadline_at_ticks(to_clock_ticks(when.time_since_epoch()));
  } else {
    const auto now = C::now();
    using NowDuration = typename decltype(now)::duration;
    if constexpr (std::is_same_v<D, NowDuration> && std::is_integral_v<typename D::rep>) {
      typename D::rep left;
      if (__builtin_sub_overflow(when.time_since_epoch().count(), now.time_since_epoch().count(),
                                 &left))
        return when > now ? kForever : kImmediate;
      return deadline_after(D(left));
    } else {
      return deadline_after_ticks(to_clock_ticks(when.time_since_epoch()) -
                                  to_clock_ticks(now.time_since_epoch()));
    }
  }
}

// A timeout as a Clock::duration, rounded up and clamped to Clock::duration's range
// (zero for zero or negative timeouts, max() for those beyond the range and +infinity).
// Throws: ValueError for NaN.
template <class Rep, class Period>
Clock::duration to_clock_duration(std::chrono::duration<Rep, Period> timeout) {
  check_timeout(timeout);
  if (timeout <= timeout.zero()) return Clock::duration::zero();
  if constexpr (std::is_integral_v<Rep>) {
    if (timeout.count() <= safe_timeout_count<Rep, Period>())
      return std::chrono::ceil<Clock::duration>(timeout);
  }
  return deadline_at_ticks(to_clock_ticks(timeout)).time_since_epoch();
}

// The time left until `deadline` as a timeout for an API that takes durations:
// zero or negative once it passed, Clock::duration::max() for kForever.
inline Clock::duration time_left(Deadline deadline) noexcept {
  if (deadline == kForever) return Clock::duration::max();
  const Deadline now = Clock::now();
  if (deadline <= now) return Clock::duration::zero();
  return deadline - now;
}

}  // namespace weft::detail
