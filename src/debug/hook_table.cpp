// SPDX-License-Identifier: Apache-2.0
// Installs the debug tools' hooks in the table of weft/detail/hooks.hpp, through which the
// layers below call them.
#include "debug/hook_table.hpp"

namespace weft::detail::dbg {
namespace {

constexpr DebugHooks kDebugHooks{
    .before_acquire = &hook_impl::before_acquire,
    .after_acquire = &hook_impl::after_acquire,
    .after_release = &hook_impl::after_release,
    .wait_begin = &hook_impl::wait_begin,
    .wait_end = &hook_impl::wait_end,
    .object_named = &hook_impl::object_named,
    .object_destroyed = &hook_impl::object_destroyed,
    .queue_put = &hook_impl::queue_put,
    .queue_get = &hook_impl::queue_get,
    .task_submitted = &hook_impl::task_submitted,
    .task_begin = &hook_impl::task_begin,
    .task_end = &hook_impl::task_end,
    .thread_started = &hook_impl::thread_started,
    .thread_finished = &hook_impl::thread_finished,
    .thread_dump = &hook_impl::thread_dump,
};

// Priority 101, the first one a program may use: before the constructors of every static
// object of default priority (a static named Lock of the program registers its name through
// the installed table).
struct InstallAtStartUp {
  InstallAtStartUp() noexcept { install_debug_hooks(); }
};
__attribute__((init_priority(101))) const InstallAtStartUp g_install_at_start_up;

}  // namespace

void install_debug_hooks() noexcept {
  g_debug_hooks.store(&kDebugHooks, std::memory_order_release);
}

}  // namespace weft::detail::dbg
