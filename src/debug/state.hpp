// SPDX-License-Identifier: Apache-2.0
// Shared state of the debug tools (L5): object names, per-thread records, flags.
//
// Locking (never the instrumented primitives; WordLock only), in this order:
//   registry lock -> graph lock -> a DebugThreadData's mu -> a names shard / intern lock,
//   and a record's name lock (ThreadRecord::name()) last of all.
// No lock is held while a report handler runs or an exception is thrown.
// Everything here is allocated once and leaked: daemon threads may call hooks while
// static destructors run.
#pragma once

#include <atomic>
#include <chrono>
#include <iosfwd>
#include <string_view>
#include <cstdint>
#include <string>
#include <vector>

#include "weft/detail/config.hpp"
#include "park/thread_record.hpp"
#include "park/word_lock.hpp"
#include "weft/debug.hpp"
#include "weft/detail/hooks.hpp"

namespace weft::detail::dbg {

using debug::Mode;

using Nanos = std::int64_t;

// Steady-clock nanoseconds since the process started (the trace's time base).
Nanos now_ns() noexcept;
Nanos to_ns(Deadline t) noexcept;

void atomic_max(std::atomic<std::uint64_t>& a, std::uint64_t v) noexcept;

// One per (kind, name): interned at object_named, never freed, so trace events and
// statistics can keep a pointer after the object is gone. Counters are relaxed.
struct NameRec {
  ObjKind kind;
  std::string name;
  std::atomic<bool> used{false};  // some statistic was recorded
  std::atomic<std::uint64_t> acquisitions{0}, contended{0}, waits{0}, wait_total{0},
      wait_max{0}, hold_max{0}, puts{0}, gets{0}, depth_max{0}, tasks{0}, qwait_total{0},
      qwait_max{0}, run_total{0}, run_max{0}, idle_waits{0}, idle_total{0}, timeouts{0},
      timeout_total{0};
};

// Every interned name (for statistics).
std::vector<const NameRec*> all_names();
// The name of a live object, or nullptr when it has none.
const NameRec* name_of(const void* obj, ObjKind kind) noexcept;
// "Lock \"A\"" for a named object, "Lock 0x7f..." otherwise.
std::string describe(const void* obj, ObjKind kind);
std::string describe(const void* obj, ObjKind kind, const NameRec* name);
// "dir/file.cpp:12" (the last two path components).
std::string site_string(SourceLoc loc);

bool is_order_kind(ObjKind kind) noexcept;  // Lock and RLock
}  // namespace weft::detail::dbg

namespace weft::detail {
const char* obj_kind_name(ObjKind kind) noexcept;  // "Lock", "Queue", ...
}  // namespace weft::detail

namespace weft::detail::dbg {

// A lock the thread holds.
struct Held {
  const void* obj;
  ObjKind kind;
  SourceLoc loc;
  Nanos since;
  std::uint32_t count;  // re-entrant levels reported
};

enum class EvType : std::uint8_t { wait, hold, task, put, get, meta_drop };

// One trace event, recorded when a span ends (64 bytes).
struct TraceEvent {
  Nanos ts;
  Nanos dur;
  const NameRec* name;  // interned name of obj, or nullptr
  const void* obj;
  const char* file;
  std::uint64_t arg;  // put/get: seq; task: task id; wait: 1 if for work (idle)
  std::uint64_t arg2; // put/get: depth; wait: timed_out; task: queue wait ns
  std::uint32_t line;
  std::uint32_t tid;  // track: the holder's for holds
  EvType type;
  ObjKind kind;
};

// The debug data of one thread, attached to its record (ThreadRecord::debug). Created
// at the thread's first hook and never freed; it holds a reference to the record, so a
// thread that has ended keeps its name in dumps and the trace.
struct DebugThreadData {
  RecordRef record;  // set before the data is shared; the name is read from it
  WordLock mu;  // guards everything below that another thread may read
  std::uint32_t tid = 0;  // small number: the trace track
  bool alive = true;
  bool weft_thread = false;  // announced by thread_started
  std::uint64_t epoch = 0;   // held is valid only while epoch == g_epoch
  std::vector<Held> held;
  // The blocking acquisition in progress (between before_acquire and after_acquire).
  const void* pending_obj = nullptr;
  Nanos pending_since = 0;
  // The park in progress.
  bool waiting = false;
  WaitSite wait_site{};
  Nanos wait_since = 0;
  // For the hang report: the waits since this thread last made progress. A wait that
  // ends by its timeout and is followed by a wait on the same object at the same site
  // (a poll: join(100ms) in a loop) continues the stall; any other wait starts anew.
  Nanos stall_since = 0;            // start of the first wait of the stall
  std::uint32_t stall_polls = 0;    // timed-out waits repeated in it
  bool last_wait_timed_out = false;
  WaitSite last_wait_site{};
  // Tasks running on this thread (innermost last): id, executor, start, queue wait.
  struct Task {
    const void* executor;
    std::uint64_t id;
    Nanos start;
    Nanos queue_wait;
  };
  std::vector<Task> tasks;
  // Trace ring buffer.
  std::vector<TraceEvent> ring;
  std::size_t ring_next = 0;
  std::uint64_t dropped = 0;
  Nanos dropped_until = 0;  // latest end of a dropped event: complete from here on

  std::vector<Held>& held_now() noexcept;  // clears held first if the epoch moved on
  void append_event(const TraceEvent& ev) noexcept;  // mu must be held
};

// The calling thread's debug data (created at its first hook). Throws std::bad_alloc.
DebugThreadData& self();
// The debug data of every thread that had a hook (ended threads too), under the
// registry lock.
WordLock& registry_lock() noexcept;
std::vector<DebugThreadData*>& registry() noexcept;  // registry lock must be held

// Appends a finished span to me's trace ring; me.mu must be held.
void record_event(DebugThreadData& me, EvType type, const void* obj, ObjKind kind,
                  const NameRec* name, Nanos start, Nanos end, SourceLoc loc,
                  std::uint64_t arg, std::uint64_t arg2, std::uint32_t tid);

std::uint32_t flags() noexcept;
extern std::atomic<std::uint64_t> g_epoch;
extern std::atomic<std::size_t> g_trace_capacity;

// Settings that are not atomics; guarded by `lock` (config_lock()).
struct Config {
  WordLock lock;
  debug::ReportHandler handler;
  std::chrono::milliseconds interval{100};
  std::chrono::milliseconds hang_timeout{10000};
};
Config& config();
extern std::atomic<int> g_mode;  // the lock-order Mode

// Switches on the tools `opts` asks for (api.cpp); WEFT_DEBUG at start-up and enable().
void apply(const debug::Options& opts);

// Reports through the handler (default: stderr).
void emit_report(std::string_view kind, std::string_view text);
Mode current_mode() noexcept;

// lock_order.cpp
void order_check(DebugThreadData& me, const void* obj, ObjKind kind, SourceLoc loc,
                 const std::vector<Held>& held);
void order_forget(const void* obj) noexcept;

// watchdog.cpp
// Starts the watchdog (or updates its settings): scans every `interval`; reports a hang
// after `hang_after` without progress (zero: never).
void watchdog_start(std::chrono::milliseconds interval, std::chrono::milliseconds hang_after);
void watchdog_stop();
std::string dump_text(bool with_cycles);
// The same, limited to the threads whose ident `include` accepts (wait-for cycles among them).
std::string dump_of(FunctionRef<bool(std::uint64_t)> include);
// SIGQUIT prints the thread dump (through the report handler, kind "dump") while on.
void sigquit_dump_start();
void sigquit_dump_stop();
bool sigquit_dump_on() noexcept;

// stats.cpp
void print_stats(std::ostream& out);

// trace.cpp
bool write_trace_file(const std::string& path);
std::string json_escape(std::string_view s);
extern std::string g_trace_path;  // guarded by config lock
WordLock& config_lock() noexcept;

}  // namespace weft::detail::dbg
