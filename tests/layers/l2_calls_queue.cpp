// SPDX-License-Identifier: Apache-2.0
// Threading (L2) may not call into the queues (L3): Event reaches select (L3) only through
// the hook select registers. A direct call does not link.
// layer: weft_l2_threading
// expect-error: undefined reference to `weft::detail::notify_event_selects_slow
#include "weft/event.hpp"

namespace weft::detail {
void notify_event_selects_slow(const void* event) noexcept;
}  // namespace weft::detail

int main() {
  weft::Event event;
  weft::detail::notify_event_selects_slow(&event);
  return 0;
}
