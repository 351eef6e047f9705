// SPDX-License-Identifier: Apache-2.0
// Lock-order checking: one acquired-before graph over every Lock and RLock.
//
// before_acquire(y) by a thread holding x1..xn adds the edges xi -> y. An edge that would
// close a cycle is not added; instead the cycle is reported, once (the edge is then
// remembered and never reported again), and the mode decides what happens next. A
// try-acquire adds no edge (it cannot block), but a lock taken by a try counts as held
// for later acquisitions. Destroyed locks leave the graph.
#include <cstdlib>
#include <string>

#include "debug/graph.hpp"
#include "debug/state.hpp"
#include "weft/errors.hpp"

namespace weft::detail::dbg {
namespace {

struct Order {
  WordLock lock;
  OrderGraph graph;
};
std::atomic<bool> g_graph_used{false};

Order& order() {
  static auto* o = new Order();  // leaked: hooks may run during static destruction
  return *o;
}

std::string thread_label(const DebugThreadData* rec) {
  if (rec == nullptr) return "?";
  std::string label = rec->record->name();
  label.insert(label.begin(), '"');
  label.push_back('"');
  return label;
}

struct Step {
  const void* from;
  const void* to;
  EdgeInfo info;
};

std::string make_report(const std::vector<Step>& steps) {
  std::string out = "weft: lock-order inversion (potential deadlock)\n";
  bool first = true;
  for (const Step& s : steps) {
    out += first ? "  thread " : "  earlier, thread ";
    out += thread_label(s.info.thread);
    out += first ? " acquires " : " acquired ";
    out += describe(s.to, s.info.to_kind) + " at " + site_string(s.info.to_loc) + "\n";
    out += "      while holding " + describe(s.from, s.info.from_kind) + " (acquired at " +
           site_string(s.info.from_loc) + ")\n";
    first = false;
  }
  out += "  cycle: ";
  for (const Step& s : steps) out += describe(s.from, s.info.from_kind) + " -> ";
  out += describe(steps.front().from, steps.front().info.from_kind) + "\n";
  out += "  Each order alone works; run together, these threads can deadlock. Take the locks "
         "in one order everywhere.\n";
  return out;
}

}  // namespace

void order_check(DebugThreadData& me, const void* obj, ObjKind kind, SourceLoc loc,
                 const std::vector<Held>& held) {
  std::string report;
  {
    Order& o = order();
    WordLockGuard guard(o.lock);
    g_graph_used.store(true, std::memory_order_relaxed);
    const OrderGraph::Id to = o.graph.id_of(obj);
    std::vector<OrderGraph::Id> path;
    for (const Held& h : held) {
      const OrderGraph::Id from = o.graph.id_of(h.obj);
      const EdgeInfo info{&me, h.loc, loc, h.kind, kind};
      if (o.graph.insert(from, to, info, &path)) continue;
      if (o.graph.suppressed(from, to) || !report.empty()) continue;
      o.graph.suppress(from, to);
      // path: to -> ... -> from; the new edge from -> to closes it.
      std::vector<Step> steps;
      steps.push_back(Step{h.obj, obj, info});
      for (std::size_t i = 0; i + 1 < path.size(); ++i) {
        const EdgeInfo* e = o.graph.edge(path[i], path[i + 1]);
        steps.push_back(Step{o.graph.object(path[i]), o.graph.object(path[i + 1]),
                             e != nullptr ? *e : EdgeInfo{}});
      }
      report = make_report(steps);
    }
  }
  if (report.empty()) return;
  const Mode mode = current_mode();
  emit_report("lock-order", report);
  if (mode == Mode::abort) std::abort();
  if (mode == Mode::throw_error) throw LockOrderError(report);
}

void order_forget(const void* obj) noexcept {
  if (!g_graph_used.load(std::memory_order_relaxed)) return;
  Order& o = order();
  WordLockGuard guard(o.lock);
  if (o.graph.contains(obj)) o.graph.remove(obj);
}

}  // namespace weft::detail::dbg
