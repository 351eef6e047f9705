// SPDX-License-Identifier: Apache-2.0
// The parking lot (L1) may reach the debug tools (L5) only through the hook table
// (weft/detail/hooks.hpp): a direct call to a hook's implementation does not link.
// layer: weft_l1_park
// expect-error: undefined reference to `weft::detail::hook_impl::wait_begin
#include "weft/detail/hooks.hpp"

namespace weft::detail::hook_impl {
void wait_begin(const WaitSite& site) noexcept;
}  // namespace weft::detail::hook_impl

int main() {
  weft::detail::hook_impl::wait_begin(weft::detail::WaitSite{});
  return 0;
}
