// SPDX-License-Identifier: Apache-2.0
// The debug tools' implementations of the hooks of weft/detail/hooks.hpp (contracts there),
// which hook_table.cpp installs in the layers' hook table.
#pragma once

#include <string>

#include "weft/detail/hooks.hpp"

namespace weft::detail::hook_impl {

void before_acquire(const void* obj, ObjKind kind, SourceLoc loc);
void after_acquire(const void* obj, ObjKind kind, SourceLoc loc, bool contended) noexcept;
void after_release(const void* obj, ObjKind kind) noexcept;
void wait_begin(const WaitSite& site) noexcept;
void wait_end(const WaitSite& site, bool timed_out) noexcept;
void object_named(const void* obj, ObjKind kind, std::string_view name);
void object_destroyed(const void* obj) noexcept;
void queue_put(const void* queue, std::size_t depth, std::uint64_t seq) noexcept;
void queue_get(const void* queue, std::size_t depth, std::uint64_t seq) noexcept;
void task_submitted(const void* executor, std::uint64_t task_id) noexcept;
void task_begin(const void* executor, std::uint64_t task_id) noexcept;
void task_end(const void* executor, std::uint64_t task_id) noexcept;
void thread_started(std::string_view name) noexcept;
void thread_finished() noexcept;
std::string thread_dump(FunctionRef<bool(std::uint64_t ident)> include);

}  // namespace weft::detail::hook_impl

namespace weft::detail::dbg {

// Installs the debug tools' hook table (idempotent). Done during static initialisation,
// before any default-priority constructor runs; apply() does it again before it sets a
// flag, so the table is in place before any hook can be called.
void install_debug_hooks() noexcept;

}  // namespace weft::detail::dbg
