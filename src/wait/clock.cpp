// SPDX-License-Identifier: Apache-2.0
// weft::clock (weft/detail/clock.hpp).
#include "weft/detail/clock.hpp"

#include "weft/detail/config.hpp"

namespace weft {
namespace detail {
namespace {
constinit thread_local VirtualTime* t_virtual_time = nullptr;
}  // namespace

VirtualTime* current_virtual_time() noexcept { return t_virtual_time; }
void set_current_virtual_time(VirtualTime* time) noexcept { t_virtual_time = time; }

}  // namespace detail

clock::time_point clock::now() noexcept {
  if (const detail::VirtualTime* v = detail::t_virtual_time; WEFT_UNLIKELY(v != nullptr))
    return time_point(duration(v->now_ns.load(std::memory_order_acquire)));
  return detail::real_now();
}

}  // namespace weft
