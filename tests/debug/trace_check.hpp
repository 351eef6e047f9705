// SPDX-License-Identifier: Apache-2.0
// Structural checks of a Chrome trace written by weft, shared by the trace tests.
#pragma once

// nlohmann-json trips gcc 12's -Wnull-dereference at -O3 (a false positive inside it).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wnull-dereference"
#endif
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace weft::testing {

struct TraceSummary {
  std::set<std::string> thread_names;
  std::map<int, std::string> thread_of_tid;
  std::size_t spans = 0, holds = 0, flows = 0;
};

inline long long trace_ns(const nlohmann::json& v) { return std::llround(v.get<double>() * 1000.0); }

// Per thread: timestamps never go back in file order; "X" spans nest (a span that starts
// inside another ends inside it); each hold "b" has one "e" with its id, not earlier; each
// flow start "s" has one finish "f" with its id, not earlier, and the other way round.
inline TraceSummary check_trace(const nlohmann::json& trace) {
  TraceSummary s;
  EXPECT_TRUE(trace.contains("traceEvents"));
  std::map<int, long long> last_ts;
  std::map<int, std::vector<long long>> open_ends;  // per tid: ends of enclosing spans
  std::map<std::string, long long> holds_open;
  std::map<std::string, long long> flow_s, flow_f;
  for (const auto& ev : trace["traceEvents"]) {
    const std::string ph = ev["ph"];
    const int tid = ev["tid"].get<int>();
    if (ph == "M") {
      if (ev["name"] == "thread_name") {
        s.thread_names.insert(ev["args"]["name"].get<std::string>());
        s.thread_of_tid[tid] = ev["args"]["name"].get<std::string>();
      }
      continue;
    }
    const long long ts = trace_ns(ev["ts"]);
    if (last_ts.count(tid) != 0) {
      EXPECT_GE(ts, last_ts[tid]) << "time went back on tid " << tid << ": " << ev.dump();
    }
    last_ts[tid] = ts;
    if (ph == "X") {
      ++s.spans;
      const long long end = ts + trace_ns(ev["dur"]);
      auto& stack = open_ends[tid];
      while (!stack.empty() && end > stack.back()) {
        EXPECT_GE(ts, stack.back()) << "span overlaps its parent without nesting: " << ev.dump();
        stack.pop_back();
      }
      stack.push_back(end);
    } else if (ph == "b" || ph == "e") {
      const std::string id = ev["cat"].get<std::string>() + "/" + ev["id"].dump();
      if (ph == "b") {
        EXPECT_EQ(holds_open.count(id), 0u) << "hold id reused while open: " << id;
        holds_open[id] = ts;
        ++s.holds;
      } else {
        auto it = holds_open.find(id);
        if (it == holds_open.end()) {
          ADD_FAILURE() << "hold end without begin: " << ev.dump();
        } else {
          EXPECT_GE(ts, it->second);
          holds_open.erase(it);
        }
      }
    } else if (ph == "s" || ph == "f") {
      auto& side = ph == "s" ? flow_s : flow_f;
      const std::string id = ev["id"].dump();
      EXPECT_EQ(side.count(id), 0u) << "flow id used twice: " << ev.dump();
      side[id] = ts;
    }
  }
  EXPECT_TRUE(holds_open.empty()) << holds_open.size() << " holds never end";
  EXPECT_EQ(flow_s.size(), flow_f.size());
  for (const auto& [id, ts] : flow_s) {
    auto it = flow_f.find(id);
    if (it == flow_f.end()) {
      ADD_FAILURE() << "flow " << id << " starts but never finishes";
      continue;
    }
    EXPECT_GE(it->second, ts) << "flow " << id << " finishes before it starts";
    ++s.flows;
  }
  return s;
}

}  // namespace weft::testing
