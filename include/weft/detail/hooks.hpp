// SPDX-License-Identifier: Apache-2.0
// weft/detail/hooks.hpp (L1): the points where L1-L4 report to the debug and trace tools
// (L5), through a table of function pointers.
//
// Every hook is called only after debug_on() returned true (object_named excepted), so
// when all tools are off a primitive pays one relaxed load and one predictable branch.
// The layers below L5 never call L5 directly: each hook below loads the installed
// DebugHooks table and calls through it. The table, g_debug_flags and the table of no-op
// hooks in force until L5 installs its own are defined in L1 (src/park/debug_hooks.cpp);
// L5 (src/debug/hook_table.cpp) installs its table during static initialisation, before
// any constructor of a program's static objects runs, and before it ever sets a flag. The
// hooks are implemented on top of L0 and L1 only, so they never re-enter an instrumented
// primitive.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "weft/detail/config.hpp"
#include "weft/detail/function_ref.hpp"
#include "weft/detail/link_debug_tools.hpp"

namespace weft::detail {

// What kind of object a thread acquires or waits on; shown in reports and traces.
enum class ObjKind : std::uint8_t {
  lock,
  rlock,
  condition,
  semaphore,
  event,
  barrier,
  queue,
  future,
  thread,
  executor,
  timer,
  other,
};

// What a parked thread waits on: the object (not always the parking key), its kind and
// the call site.
struct WaitSite {
  const void* object = nullptr;
  ObjKind kind = ObjKind::other;
  SourceLoc loc{};
  // The thread waits for work to arrive (a getter of an empty queue, an idle pool
  // worker): the statistics count it as idle, not as waiting on another thread.
  bool for_work = false;
};

// Bits of g_debug_flags. Set by WEFT_DEBUG / WEFT_TRACE at start-up or by
// weft::debug::enable(); never cleared while threads run instrumented code.
enum DebugFlag : std::uint32_t {
  kDebugLockOrder = 1u << 0,
  kDebugDeadlock = 1u << 1,
  kDebugStats = 1u << 2,
  kDebugTrace = 1u << 3,
};

extern std::atomic<std::uint32_t> g_debug_flags;

// True when any debug or trace tool is on. Relaxed: a thread that misses a concurrent
// enable() starts reporting at its next call.
// Building everything with -DWEFT_NO_DEBUG_HOOKS compiles the hooks out (debug_on() is
// constant false, so the tools never see anything): only for measuring what the hooks
// cost when off (bench/hooks_bench.cpp).
#if defined(WEFT_NO_DEBUG_HOOKS)
WEFT_ALWAYS_INLINE constexpr bool debug_on() noexcept { return false; }
#else
WEFT_ALWAYS_INLINE bool debug_on() noexcept {
  return WEFT_UNLIKELY(g_debug_flags.load(std::memory_order_relaxed) != 0);
}
#endif

// The debug tools' entry points. Contracts: see the functions of namespace hooks below,
// which call them.
struct DebugHooks {
  void (*before_acquire)(const void* obj, ObjKind kind, SourceLoc loc);
  void (*after_acquire)(const void* obj, ObjKind kind, SourceLoc loc, bool contended) noexcept;
  void (*after_release)(const void* obj, ObjKind kind) noexcept;
  void (*wait_begin)(const WaitSite& site) noexcept;
  void (*wait_end)(const WaitSite& site, bool timed_out) noexcept;
  void (*object_named)(const void* obj, ObjKind kind, std::string_view name);
  void (*object_destroyed)(const void* obj) noexcept;
  void (*queue_put)(const void* queue, std::size_t depth, std::uint64_t seq) noexcept;
  void (*queue_get)(const void* queue, std::size_t depth, std::uint64_t seq) noexcept;
  void (*task_submitted)(const void* executor, std::uint64_t task_id) noexcept;
  void (*task_begin)(const void* executor, std::uint64_t task_id) noexcept;
  void (*task_end)(const void* executor, std::uint64_t task_id) noexcept;
  void (*thread_started)(std::string_view name) noexcept;
  void (*thread_finished)() noexcept;
  std::string (*thread_dump)(FunctionRef<bool(std::uint64_t ident)> include);
};

// The installed table: never null; the no-op table until L5 installs its own. Installed
// with a release store, read with an acquire load (a plain load on x86).
extern std::atomic<const DebugHooks*> g_debug_hooks;

WEFT_ALWAYS_INLINE const DebugHooks& debug_hooks() noexcept {
  return *g_debug_hooks.load(std::memory_order_acquire);
}

namespace hooks {

// Lock-like objects (Lock, RLock, Semaphore, the lock of a Condition) report:
//   before_acquire  before a blocking or timed acquisition (not before a try);
//   after_acquire   after every successful acquisition, tries included;
//   after_release   after every release.
// RLock: report only the outermost acquisition and the release that frees it (the one
// that drops the count to zero, including release_save); re-entry is then invisible.
// (A re-entrant after_acquire is tolerated and counted, but then every level must be
// released through after_release.) Only Lock and RLock take part in lock-order
// checking; other kinds are counted in statistics only.
//
// A blocking acquisition of `obj` is about to start (lock-order check happens here, so
// an inversion is reported before it can deadlock). May throw LockOrderError.
inline void before_acquire(const void* obj, ObjKind kind, SourceLoc loc) {
  debug_hooks().before_acquire(obj, kind, loc);
}
// `obj` is now held by the calling thread; `contended` when the acquirer had to wait.
inline void after_acquire(const void* obj, ObjKind kind, SourceLoc loc, bool contended) noexcept {
  debug_hooks().after_acquire(obj, kind, loc, contended);
}
// `obj` was released (for a Lock, possibly by a thread that did not acquire it).
inline void after_release(const void* obj, ObjKind kind) noexcept {
  debug_hooks().after_release(obj, kind);
}

// The calling thread is about to park / is back from parking.
inline void wait_begin(const WaitSite& site) noexcept { debug_hooks().wait_begin(site); }
inline void wait_end(const WaitSite& site, bool timed_out) noexcept {
  debug_hooks().wait_end(site, timed_out);
}

// Names and lifetimes of objects the tools report on. object_named is called even when
// the tools are off, so that enabling them later still shows names.
inline void object_named(const void* obj, ObjKind kind, std::string_view name) {
  debug_hooks().object_named(obj, kind, name);
}
inline void object_destroyed(const void* obj) noexcept { debug_hooks().object_destroyed(obj); }
// What every named object does with them, given its byte `named` (zero until it is first
// named): name_object() sets it and reports the name; forget_object(), from the
// destructor, reports the end of an object that was named or that the tools, being on,
// may know by address.
inline void name_object(const void* obj, ObjKind kind, std::string_view name,
                        std::uint8_t& named) {
  named = 1;
  object_named(obj, kind, name);
}
inline void forget_object(const void* obj, std::uint8_t named) noexcept {
  if (named != 0 || debug_on()) object_destroyed(obj);
}

// Queues: an item entered / left `queue`, which now holds `depth` items. `seq` pairs a
// put with the get that took the item (trace flow arrows); 0 when unknown.
inline void queue_put(const void* queue, std::size_t depth, std::uint64_t seq) noexcept {
  debug_hooks().queue_put(queue, depth, seq);
}
inline void queue_get(const void* queue, std::size_t depth, std::uint64_t seq) noexcept {
  debug_hooks().queue_get(queue, depth, seq);
}

// Executors: a task was queued (on the submitting thread); it starts / ends on the
// calling worker thread. task_submitted is optional: without it the statistics have
// no queue-wait time. Task ids are unique per executor.
inline void task_submitted(const void* executor, std::uint64_t task_id) noexcept {
  debug_hooks().task_submitted(executor, task_id);
}
inline void task_begin(const void* executor, std::uint64_t task_id) noexcept {
  debug_hooks().task_begin(executor, task_id);
}
inline void task_end(const void* executor, std::uint64_t task_id) noexcept {
  debug_hooks().task_end(executor, task_id);
}

// A weft thread starts running / is about to finish, on that thread. A weft thread's
// record is named already and passes an empty name; a non-empty `name` renames the
// calling thread (for threads weft did not start).
inline void thread_started(std::string_view name) noexcept { debug_hooks().thread_started(name); }
inline void thread_finished() noexcept { debug_hooks().thread_finished(); }

// The thread dump of WEFT_DEBUG=deadlock (weft::debug::dump), limited to the threads
// whose get_ident() `include` accepts. Called with the tools off too (a virtual-time
// bubble's deadlock report); `include` must not park. Throws: std::bad_alloc.
inline std::string thread_dump(FunctionRef<bool(std::uint64_t ident)> include) {
  return debug_hooks().thread_dump(include);
}

}  // namespace hooks
}  // namespace weft::detail
