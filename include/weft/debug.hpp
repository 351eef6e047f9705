// SPDX-License-Identifier: Apache-2.0
// weft/debug.hpp: lock-order checking, deadlock dump, contention statistics, timeline trace.
//
// Everything here is off by default and is switched on without rebuilding:
//   WEFT_DEBUG=lock-order[:report|:throw|:abort][,deadlock][,stats][,dump-on-sigquit]
//              (or "all")
//   WEFT_TRACE=path.json   WEFT_HANG_SECONDS=10
// read once at start-up, or by code with enable(). Guide: docs/debugging.md.
//
// Cost: when every tool is off, each primitive pays one relaxed load and one predictable
// branch on its slow path and none on its inline fast path beyond that branch. When a tool
// is on, every acquisition, release and wait of every weft primitive goes through the
// tools (a few hundred nanoseconds each; lock-order checking adds a graph update when a
// lock is acquired while another is held).
//
// The tools are built on weft's lowest layer and an internal uninstrumented lock only:
// they never call an instrumented weft primitive, so they cannot recurse or deadlock with
// the program they observe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "weft/detail/config.hpp"

namespace weft::debug {

/// What lock-order checking does when an acquisition closes a cycle in the
/// acquired-before graph (once per cycle).
enum class Mode {
  report,       // print the report (stderr, or the report handler) and go on
  throw_error,  // report, then throw weft::LockOrderError from the acquiring call,
                // before it blocks: the lock is not acquired
  abort,        // report, then std::abort()
};

/// Which tools to switch on. enable() adds to what is already on; it never switches a
/// tool off (use disable()).
struct Options {
  bool lock_order = false;  // acquired-before graph over Lock / RLock (and locks inside
                            // Condition, queues, executors)
  Mode lock_order_mode = Mode::report;
  bool deadlock = false;    // watchdog thread: dump when blocked threads form a cycle,
                            // or when every thread has stalled (hang_timeout)
  bool stats = false;       // per named object counts and times, printed at exit
  std::string trace_path;   // non-empty: record a timeline, written there at exit
  /// How often the deadlock watchdog looks at the blocked threads. A cycle is reported
  /// once it has been seen in two consecutive scans (so after 1-2 intervals).
  std::chrono::milliseconds watchdog_interval{100};
  /// With `deadlock`: the thread dump is printed once (report kind "hang") when every
  /// thread weft knows (at least one of them not a daemon) has been blocked in weft
  /// calls -- locks, queues, events, futures, conditions, semaphores, barriers, joins --
  /// for this long with no progress. Progress is a wait that ends because another
  /// thread woke it, or a thread running outside weft (it may yet wake the others). A
  /// wait with a timeout still to come is progress to come, but a wait repeated at the
  /// same place after its timeout (a join(100ms) poll) is not. Zero: no hang report.
  /// WEFT_HANG_SECONDS sets it from the environment (decimal seconds).
  std::chrono::milliseconds hang_timeout{10000};
  /// SIGQUIT (Ctrl-\ in a terminal) prints the thread dump (report kind "dump") instead
  /// of ending the process; disable() restores the previous SIGQUIT action.
  /// WEFT_DEBUG=dump-on-sigquit.
  bool dump_on_sigquit = false;
  /// Per-thread trace buffer, in events (64 bytes each): 16384 events = 1 MiB per
  /// thread that records events. When full, the oldest events of that thread are
  /// overwritten (the trace keeps the most recent ones and says how many were dropped).
  std::size_t trace_events_per_thread = 16384;
};

/// Switches on the tools selected in `opts` (and applies its mode). Thread-safe; a
/// thread that is inside a weft call while this runs is seen from its next call on.
void enable(const Options& opts);

/// Switches every tool off (stats and trace already recorded are kept; report(),
/// stats() and write_trace() still work). Locks held at this point are forgotten.
void disable();

/// The tools now on, as an Options value.
Options current_options();

/// Sets what lock-order checking does on an inversion; returns the previous mode.
Mode set_lock_order_mode(Mode mode);
Mode lock_order_mode();

/// Where reports go. kind is "lock-order", "deadlock" (a wait-for cycle), "hang" (every
/// thread stalled) or "dump" (SIGQUIT); text is the whole report.
/// The default handler writes text to stderr. The handler runs on the thread that found
/// the problem (the acquiring thread, or the watchdog thread) and must not block on
/// weft primitives held by the threads it reports on. Returns the previous handler.
/// A null handler restores the default.
using ReportHandler = std::function<void(std::string_view kind, std::string_view text)>;
ReportHandler set_report_handler(ReportHandler handler);

/// Per named object statistics (objects with the same kind and name are counted
/// together). Times are in nanoseconds.
struct ObjectStats {
  std::string kind;  // "Lock", "RLock", "Queue", "Executor", ...
  std::string name;
  std::uint64_t acquisitions = 0;            // successful acquisitions (locks, semaphores)
  std::uint64_t contended = 0;               // ... of which had to wait
  /// Blocking waits that ended because the thread was woken (all kinds), without the
  /// two kinds below: what other threads made this one wait.
  std::uint64_t waits = 0;
  std::chrono::nanoseconds total_wait{0};    // summed over those waits
  std::chrono::nanoseconds max_wait{0};
  /// Waits for work to arrive: a get() on an empty queue, an idle pool worker. Not
  /// contention: the thread had nothing to do.
  std::uint64_t idle_waits = 0;
  std::chrono::nanoseconds total_idle_wait{0};
  /// Waits that ended by their timeout (a join(100ms) poll, a get(timeout) that
  /// raised Empty, a timed acquire that failed), idle or not.
  std::uint64_t timed_out_waits = 0;
  std::chrono::nanoseconds total_timed_out_wait{0};
  std::chrono::nanoseconds max_hold{0};      // locks: longest time held
  std::uint64_t puts = 0, gets = 0;          // queues
  std::size_t max_depth = 0;                 // queues: deepest depth seen
  std::uint64_t tasks = 0;                   // executors: tasks run
  std::chrono::nanoseconds total_queue_wait{0}, max_queue_wait{0};  // submit -> start
  std::chrono::nanoseconds total_run{0}, max_run{0};                // start -> end
};

/// A snapshot of the statistics of every named object seen while stats were on,
/// sorted by total wait, longest first.
std::vector<ObjectStats> stats();

/// Prints stats() as a table.
void report(std::ostream& out);

/// Prints a thread dump now: every weft thread, what it waits on (kind, name, since
/// when, where) and what it holds, then any wait-for cycle among them. Works whether
/// or not a tool is on (with the tools off, held locks are not known).
void dump(std::ostream& out);

/// Writes the trace recorded so far as Chrome trace-event JSON to `path` (or to the
/// WEFT_TRACE / Options path when empty). Returns false if nothing could be written.
/// Recording goes on afterwards.
bool write_trace(const std::string& path = {});

}  // namespace weft::debug
