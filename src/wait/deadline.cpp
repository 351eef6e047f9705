// SPDX-License-Identifier: Apache-2.0
// The cold part of weft/detail/deadline.hpp: saturating conversions in long double.
#include "weft/detail/deadline.hpp"

#include <cmath>

#include "weft/errors.hpp"

namespace weft::detail {

void throw_nan_timeout() { throw ValueError("Invalid value NaN (not a number) for a timeout"); }

Deadline deadline_after_ticks(long double ticks) {
  if (std::isnan(ticks)) throw_nan_timeout();
  if (ticks <= 0) return kImmediate;
  const Deadline now = Clock::now();
  const Clock::rep max = kForever.time_since_epoch().count();
  const Clock::rep since = now.time_since_epoch().count();
  // The ticks that still fit after now (all of max if the clock is before its epoch).
  const Clock::rep room = since < 0 ? max : max - since;
  if (ticks >= static_cast<long double>(room)) return kForever;
  const auto whole = static_cast<Clock::rep>(std::ceil(ticks));
  if (whole >= room) return kForever;
  return now + Clock::duration(whole);
}

Deadline deadline_at_ticks(long double ticks) {
  if (std::isnan(ticks)) throw_nan_timeout();
  if (ticks >= static_cast<long double>(kForever.time_since_epoch().count())) return kForever;
  if (ticks <= static_cast<long double>(kImmediate.time_since_epoch().count())) return kImmediate;
  return Deadline(Clock::duration(static_cast<Clock::rep>(std::ceil(ticks))));
}

}  // namespace weft::detail
