// SPDX-License-Identifier: Apache-2.0
// Switching the debug tools on and off, and the public API of weft/debug.hpp.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "debug/hook_table.hpp"
#include "debug/state.hpp"

namespace weft::detail::dbg {
namespace {

void at_exit() {
  const std::uint32_t f = flags();
  if ((f & kDebugStats) != 0) print_stats(std::cerr);
  if ((f & kDebugTrace) != 0) {
    std::string path;
    {
      WordLockGuard guard(config().lock);
      path = g_trace_path;
    }
    if (!path.empty() && !write_trace_file(path))
      std::fprintf(stderr, "weft: could not write the trace to %s\n", path.c_str());
  }
}

// A trace switched on starts empty (buffers left from an earlier trace are dropped).
void clear_traces() {
  WordLockGuard reg_guard(registry_lock());
  for (DebugThreadData* rec : registry()) {
    WordLockGuard guard(rec->mu);
    std::vector<TraceEvent>().swap(rec->ring);
    rec->ring_next = 0;
    rec->dropped = 0;
    rec->dropped_until = 0;
  }
}

// Statistics switched on start from zero.
void clear_stats() {
  for (const NameRec* c : all_names()) {
    auto* n = const_cast<NameRec*>(c);
    n->used.store(false, std::memory_order_relaxed);
    for (auto* a : {&n->acquisitions, &n->contended, &n->waits, &n->wait_total, &n->wait_max,
                    &n->hold_max, &n->puts, &n->gets, &n->depth_max, &n->tasks, &n->qwait_total,
                    &n->qwait_max, &n->run_total, &n->run_max, &n->idle_waits, &n->idle_total,
                    &n->timeouts, &n->timeout_total})
      a->store(0, std::memory_order_relaxed);
  }
}

}  // namespace

void apply(const debug::Options& opts) {
  static std::atomic<bool> exit_registered{false};
  if (!exit_registered.exchange(true)) std::atexit(at_exit);
  std::uint32_t add = 0;
  if (opts.lock_order) add |= kDebugLockOrder;
  if (opts.deadlock) add |= kDebugDeadlock;
  if (opts.stats) add |= kDebugStats;
  if (!opts.trace_path.empty()) add |= kDebugTrace;
  if (opts.lock_order) g_mode.store(static_cast<int>(opts.lock_order_mode));
  g_trace_capacity.store(opts.trace_events_per_thread);
  {
    WordLockGuard guard(config().lock);
    if (!opts.trace_path.empty()) g_trace_path = opts.trace_path;
    config().interval = opts.watchdog_interval;
    config().hang_timeout = opts.hang_timeout;
  }
  install_debug_hooks();
  const std::uint32_t before = g_debug_flags.fetch_or(add);
  if ((add & kDebugTrace) != 0 && (before & kDebugTrace) == 0) clear_traces();
  if ((add & kDebugStats) != 0 && (before & kDebugStats) == 0) clear_stats();
  if (opts.deadlock) watchdog_start(opts.watchdog_interval, opts.hang_timeout);
  if (opts.dump_on_sigquit) sigquit_dump_start();
}

}  // namespace weft::detail::dbg

namespace weft::debug {

using namespace weft::detail;

void enable(const Options& opts) { dbg::apply(opts); }

void disable() {
  dbg::watchdog_stop();
  dbg::sigquit_dump_stop();
  g_debug_flags.store(0);
  // Held stacks are no longer maintained: forget them all, lazily.
  dbg::g_epoch.fetch_add(1);
}

Options current_options() {
  Options o;
  const std::uint32_t f = dbg::flags();
  o.lock_order = (f & kDebugLockOrder) != 0;
  o.deadlock = (f & kDebugDeadlock) != 0;
  o.stats = (f & kDebugStats) != 0;
  o.lock_order_mode = dbg::current_mode();
  o.trace_events_per_thread = dbg::g_trace_capacity.load();
  o.dump_on_sigquit = dbg::sigquit_dump_on();
  WordLockGuard guard(dbg::config().lock);
  if ((f & kDebugTrace) != 0) o.trace_path = dbg::g_trace_path;
  o.watchdog_interval = dbg::config().interval;
  o.hang_timeout = dbg::config().hang_timeout;
  return o;
}

Mode set_lock_order_mode(Mode mode) {
  return static_cast<Mode>(dbg::g_mode.exchange(static_cast<int>(mode)));
}

Mode lock_order_mode() { return dbg::current_mode(); }

ReportHandler set_report_handler(ReportHandler handler) {
  WordLockGuard guard(dbg::config().lock);
  ReportHandler old = std::move(dbg::config().handler);
  dbg::config().handler = std::move(handler);
  return old;
}

void dump(std::ostream& out) { out << dbg::dump_text(true); }

void report(std::ostream& out) { dbg::print_stats(out); }

bool write_trace(const std::string& path) {
  std::string p = path;
  if (p.empty()) {
    WordLockGuard guard(dbg::config().lock);
    p = dbg::g_trace_path;
  }
  if (p.empty()) return false;
  return dbg::write_trace_file(p);
}

}  // namespace weft::debug
