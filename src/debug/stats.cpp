// SPDX-License-Identifier: Apache-2.0
// Statistics per named object: the counters live in the interned NameRec (relaxed
// atomics updated by the hooks); this file only reads them.
#include <algorithm>
#include <cstdio>
#include <ostream>

#include "debug/state.hpp"

namespace weft::detail::dbg {

namespace {

std::string ms(std::chrono::nanoseconds ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns.count()) / 1e6);
  return buf;
}

std::string pad(std::string s, std::size_t width, bool right = false) {
  if (s.size() >= width) return s + " ";
  return right ? std::string(width - s.size(), ' ') + s + " " : s + std::string(width - s.size(), ' ') + " ";
}

// Waits that are not contention: for work (idle) and ended by their timeout.
std::string idle_header() {
  return pad("idle", 8, true) + pad("idle time", 12, true) + pad("timed out", 10, true) +
         pad("t.o. time", 12, true);
}
std::string idle_columns(const debug::ObjectStats& s) {
  return pad(std::to_string(s.idle_waits), 8, true) + pad(ms(s.total_idle_wait), 12, true) +
         pad(std::to_string(s.timed_out_waits), 10, true) + pad(ms(s.total_timed_out_wait), 12, true);
}

}  // namespace

void print_stats(std::ostream& out) {
  const auto all = debug::stats();
  out << "weft statistics (named objects; times in ms)\n";
  if (all.empty()) {
    out << "  (nothing recorded: name objects and switch stats on)\n";
    return;
  }
  bool sync = false, queues = false, executors = false;
  for (const auto& s : all) {
    if (s.kind == "Queue") {
      queues = true;
    } else if (s.kind == "Executor") {
      executors = true;
    } else {
      sync = true;
    }
  }
  if (sync) {
    out << "  " << pad("object", 28) << pad("acquired", 10, true) << pad("contended", 10, true)
        << pad("waits", 8, true) << pad("total wait", 12, true) << pad("max wait", 10, true)
        << pad("max hold", 10, true) << idle_header() << "\n";
    for (const auto& s : all) {
      if (s.kind == "Queue" || s.kind == "Executor") continue;
      out << "  " << pad(s.kind + " \"" + s.name + "\"", 28)
          << pad(std::to_string(s.acquisitions), 10, true)
          << pad(std::to_string(s.contended), 10, true) << pad(std::to_string(s.waits), 8, true)
          << pad(ms(s.total_wait), 12, true) << pad(ms(s.max_wait), 10, true)
          << pad(ms(s.max_hold), 10, true) << idle_columns(s) << "\n";
    }
  }
  if (queues) {
    out << "  " << pad("queue", 28) << pad("puts", 10, true) << pad("gets", 10, true)
        << pad("max depth", 10, true) << pad("waits", 8, true) << pad("total wait", 12, true)
        << pad("max wait", 10, true) << idle_header() << "\n";
    for (const auto& s : all) {
      if (s.kind != "Queue") continue;
      out << "  " << pad("Queue \"" + s.name + "\"", 28) << pad(std::to_string(s.puts), 10, true)
          << pad(std::to_string(s.gets), 10, true) << pad(std::to_string(s.max_depth), 10, true)
          << pad(std::to_string(s.waits), 8, true) << pad(ms(s.total_wait), 12, true)
          << pad(ms(s.max_wait), 10, true) << idle_columns(s) << "\n";
    }
  }
  if (executors) {
    out << "  " << pad("executor", 28) << pad("tasks", 10, true) << pad("queue wait", 12, true)
        << pad("max q.wait", 12, true) << pad("run", 12, true) << pad("max run", 10, true)
        << pad("waits", 8, true) << pad("total wait", 12, true) << idle_header() << "\n";
    for (const auto& s : all) {
      if (s.kind != "Executor") continue;
      out << "  " << pad("Executor \"" + s.name + "\"", 28)
          << pad(std::to_string(s.tasks), 10, true) << pad(ms(s.total_queue_wait), 12, true)
          << pad(ms(s.max_queue_wait), 12, true) << pad(ms(s.total_run), 12, true)
          << pad(ms(s.max_run), 10, true) << pad(std::to_string(s.waits), 8, true)
          << pad(ms(s.total_wait), 12, true) << idle_columns(s) << "\n";
    }
  }
}

}  // namespace weft::detail::dbg

namespace weft::debug {

std::vector<ObjectStats> stats() {
  using std::chrono::nanoseconds;
  std::vector<ObjectStats> out;
  for (const detail::dbg::NameRec* n : detail::dbg::all_names()) {
    if (!n->used.load(std::memory_order_relaxed)) continue;
    auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    auto ns = [&](const std::atomic<std::uint64_t>& a) {
      return nanoseconds(static_cast<std::int64_t>(get(a)));
    };
    ObjectStats s;
    s.kind = detail::obj_kind_name(n->kind);
    s.name = n->name;
    s.acquisitions = get(n->acquisitions);
    s.contended = get(n->contended);
    s.waits = get(n->waits);
    s.total_wait = ns(n->wait_total);
    s.max_wait = ns(n->wait_max);
    s.idle_waits = get(n->idle_waits);
    s.total_idle_wait = ns(n->idle_total);
    s.timed_out_waits = get(n->timeouts);
    s.total_timed_out_wait = ns(n->timeout_total);
    s.max_hold = ns(n->hold_max);
    s.puts = get(n->puts);
    s.gets = get(n->gets);
    s.max_depth = static_cast<std::size_t>(get(n->depth_max));
    s.tasks = get(n->tasks);
    s.total_queue_wait = ns(n->qwait_total);
    s.max_queue_wait = ns(n->qwait_max);
    s.total_run = ns(n->run_total);
    s.max_run = ns(n->run_max);
    out.push_back(std::move(s));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ObjectStats& a, const ObjectStats& b) { return a.total_wait > b.total_wait; });
  return out;
}

}  // namespace weft::debug
