// SPDX-License-Identifier: Apache-2.0
// The debug tools (L5) are built on L0 and L1 only: they read the threads' records (L1),
// not the thread registry of L2. A call into the registry does not link.
// layer: weft_l5_debug
// expect-error: undefined reference to `weft::detail::exit_began
namespace weft::detail {
bool exit_began() noexcept;
}  // namespace weft::detail

int main() { return weft::detail::exit_began() ? 1 : 0; }
