// SPDX-License-Identifier: Apache-2.0
// The debug flags and the hook table of weft/detail/hooks.hpp, and the no-op hooks in force
// until the debug tools (L5) install theirs. Constant-initialised: usable from any static
// initialiser.
#include "weft/detail/hooks.hpp"

namespace weft::detail {

std::atomic<std::uint32_t> g_debug_flags{0};

namespace {

constexpr DebugHooks kNoHooks{
    .before_acquire = [](const void*, ObjKind, SourceLoc) {},
    .after_acquire = [](const void*, ObjKind, SourceLoc, bool) noexcept {},
    .after_release = [](const void*, ObjKind) noexcept {},
    .wait_begin = [](const WaitSite&) noexcept {},
    .wait_end = [](const WaitSite&, bool) noexcept {},
    .object_named = [](const void*, ObjKind, std::string_view) {},
    .object_destroyed = [](const void*) noexcept {},
    .queue_put = [](const void*, std::size_t, std::uint64_t) noexcept {},
    .queue_get = [](const void*, std::size_t, std::uint64_t) noexcept {},
    .task_submitted = [](const void*, std::uint64_t) noexcept {},
    .task_begin = [](const void*, std::uint64_t) noexcept {},
    .task_end = [](const void*, std::uint64_t) noexcept {},
    .thread_started = [](std::string_view) noexcept {},
    .thread_finished = []() noexcept {},
    .thread_dump = [](FunctionRef<bool(std::uint64_t)>) { return std::string(); },
};

}  // namespace

std::atomic<const DebugHooks*> g_debug_hooks{&kNoHooks};

}  // namespace weft::detail
