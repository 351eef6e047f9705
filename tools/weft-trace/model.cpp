#include "model.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace weft_trace {

using nlohmann::json;

Trace load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  json doc;
  try {
    doc = json::parse(buf.str());
  } catch (const json::exception& e) {
    throw std::runtime_error(path + " is not valid JSON: " + e.what());
  }
  return parse(doc);
}

Trace parse(const json& doc) {
  const json* events = nullptr;
  if (doc.is_array()) {
    events = &doc;
  } else if (doc.is_object() && doc.contains("traceEvents") && doc["traceEvents"].is_array()) {
    events = &doc["traceEvents"];
  } else {
    throw std::runtime_error("not a trace: expected {\"traceEvents\": [...]} or an array");
  }
  Trace t;
  if (doc.is_object() && doc.contains("otherData") && doc["otherData"].contains("dropped_events"))
    t.dropped = doc["otherData"]["dropped_events"].get<std::uint64_t>();
  std::map<int, Lane> lanes;
  std::map<std::string, Span> open_holds;
  std::map<std::string, std::pair<int, double>> flow_start, flow_end;
  std::map<std::string, Counter> counters;
  bool any = false;
  auto note_time = [&](double ts) {
    if (!any || ts < t.start) t.start = ts;
    if (!any || ts > t.end) t.end = ts;
    any = true;
  };
  for (const json& ev : *events) {
    if (!ev.is_object() || !ev.contains("ph")) continue;
    const std::string ph = ev["ph"].get<std::string>();
    const int tid = ev.contains("tid") && ev["tid"].is_number() ? ev["tid"].get<int>() : 0;
    const std::string name = ev.value("name", "");
    if (ph == "M") {
      if (name != "thread_name" && name != "thread_sort_index") continue;
      Lane& lane = lanes[tid];
      lane.tid = tid;
      if (name == "thread_name") lane.name = ev["args"].value("name", "");
      if (name == "thread_sort_index") lane.sort_index = ev["args"].value("sort_index", 0);
      continue;
    }
    if (!ev.contains("ts")) continue;
    const double ts = ev["ts"].get<double>();
    note_time(ts);
    if (lanes.count(tid) == 0 && ph != "C") lanes[tid].tid = tid;
    if (ph == "X") {
      Span s;
      s.tid = tid;
      s.ts = ts;
      s.dur = ev.value("dur", 0.0);
      s.cat = ev.value("cat", "");
      s.name = name;
      s.args = ev.value("args", json::object());
      note_time(ts + s.dur);
      t.spans.push_back(std::move(s));
    } else if (ph == "b" || ph == "e") {
      const std::string id = ev.value("cat", "") + "/" + ev["id"].dump();
      if (ph == "b") {
        Span s;
        s.tid = tid;
        s.ts = ts;
        s.cat = ev.value("cat", "");
        s.name = name;
        s.args = ev.value("args", json::object());
        open_holds[id] = std::move(s);
      } else if (auto it = open_holds.find(id); it != open_holds.end()) {
        it->second.dur = ts - it->second.ts;
        t.holds.push_back(std::move(it->second));
        open_holds.erase(it);
      }
    } else if (ph == "s" || ph == "f") {
      (ph == "s" ? flow_start : flow_end)[ev["id"].dump()] = {tid, ts};
    } else if (ph == "C") {
      Counter& c = counters[name];
      c.name = name;
      const json args = ev.value("args", json::object());
      for (const auto& [k, v] : args.items())
        if (v.is_number()) c.points.emplace_back(ts, v.get<double>());
    }
  }
  for (const auto& [id, s] : flow_start) {
    auto it = flow_end.find(id);
    if (it == flow_end.end()) continue;
    t.flows.push_back(Flow{s.first, it->second.first, s.second, it->second.second});
  }
  for (auto& [tid, lane] : lanes) {
    if (lane.name.empty()) lane.name = "thread " + std::to_string(tid);
    t.lanes.push_back(lane);
  }
  std::stable_sort(t.lanes.begin(), t.lanes.end(), [](const Lane& a, const Lane& b) {
    return a.sort_index != b.sort_index ? a.sort_index < b.sort_index : a.tid < b.tid;
  });
  for (auto& [name, c] : counters) {
    std::sort(c.points.begin(), c.points.end());
    t.counters.push_back(std::move(c));
  }
  return t;
}

std::string object_of(const Span& s) {
  for (const char* key : {"object", "queue", "executor"})
    if (s.args.is_object() && s.args.contains(key) && s.args[key].is_string())
      return s.args[key].get<std::string>();
  return s.name;
}

}  // namespace weft_trace
