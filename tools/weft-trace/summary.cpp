// SPDX-License-Identifier: Apache-2.0
// The text summary: top waits by object, longest single wait, most contended lock.
#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>

#include "weft_trace.hpp"

namespace weft_trace {
namespace {

std::string dur(double us) {
  char buf[32];
  if (us >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.3f s", us / 1e6);
  } else if (us >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.3f ms", us / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f us", us);
  }
  return buf;
}

std::string pad(const std::string& s, std::size_t w, bool right = false) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

}  // namespace

Summary summarize(const Trace& t) {
  Summary s;
  std::map<std::string, WaitTotal> by_object;
  std::map<int, std::string> lane_name;
  for (const Lane& l : t.lanes) lane_name[l.tid] = l.name;
  for (const Span& sp : t.spans) {
    if (sp.cat == Cat::task) ++s.tasks;
    if (sp.cat != Cat::wait) continue;
    ++s.waits;
    std::string obj = object_of(t, sp);
    // Unnamed objects ("Future 0x55...") are summed per kind: "Future (unnamed)".
    if (const auto at = obj.find(" 0x"); at != std::string::npos && obj.find('"') == std::string::npos)
      obj = obj.substr(0, at) + " (unnamed)";
    WaitTotal& w = by_object[obj];
    w.object = obj;
    w.kind = t.str(sp.kind);
    ++w.count;
    w.total += sp.dur;
    w.max = std::max(w.max, sp.dur);
    if (!s.longest || sp.dur > s.longest->dur) {
      s.longest = LongestWait{obj, lane_name[sp.tid], t.str(sp.site), sp.ts - t.start, sp.dur};
    }
  }
  for (auto& [obj, w] : by_object) s.top.push_back(w);
  std::sort(s.top.begin(), s.top.end(),
            [](const WaitTotal& a, const WaitTotal& b) { return a.total > b.total; });
  for (const WaitTotal& w : s.top) {
    if (w.kind != "Lock" && w.kind != "RLock") continue;
    if (!s.most_contended || w.count > s.most_contended->count ||
        (w.count == s.most_contended->count && w.total > s.most_contended->total))
      s.most_contended = w;
  }
  return s;
}

void print_summary(std::ostream& out, const std::string& source, const Trace& t, std::size_t top) {
  const Summary s = summarize(t);
  out << "weft-trace summary of " << source << "\n";
  out << "  " << t.lanes.size() << " threads, " << dur(t.end - t.start) << " traced: " << s.waits
      << " waits, " << t.holds.size() << " lock holds, " << s.tasks << " tasks, "
      << t.flows.size() << " queue hand-offs";
  if (t.dropped != 0) {
    out << "\n  " << t.dropped << " older events were dropped (per-thread buffers full); every "
        << "thread's record is complete from +" << dur(t.complete_from - t.start) << " on";
  }
  out << "\n\n";
  out << "top waits by object (total time threads spent blocked on it)\n";
  if (s.top.empty()) out << "  (no blocking waits)\n";
  if (!s.top.empty())
    out << "  " << pad("object", 36) << pad("waits", 8, true) << pad("total", 14, true)
        << pad("max", 14, true) << "\n";
  for (std::size_t i = 0; i < s.top.size() && i < top; ++i) {
    const WaitTotal& w = s.top[i];
    out << "  " << pad(w.object, 36) << pad(std::to_string(w.count), 8, true)
        << pad(dur(w.total), 14, true) << pad(dur(w.max), 14, true) << "\n";
  }
  out << "\nlongest single wait: ";
  if (s.longest) {
    out << dur(s.longest->dur) << " on " << s.longest->object << " by \"" << s.longest->thread
        << "\"";
    if (!s.longest->site.empty()) out << " at " << s.longest->site;
    out << " (from +" << dur(s.longest->at) << ")\n";
  } else {
    out << "none\n";
  }
  out << "most contended lock: ";
  if (s.most_contended) {
    out << s.most_contended->object << " (" << s.most_contended->count << " waits, "
        << dur(s.most_contended->total) << " blocked in all)\n";
  } else {
    out << "none (no thread waited for a Lock or RLock)\n";
  }
}

}  // namespace weft_trace
