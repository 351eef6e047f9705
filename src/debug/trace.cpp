// SPDX-License-Identifier: Apache-2.0
// The timeline: Chrome trace-event JSON (opens in Perfetto and chrome://tracing).
//
// Each thread records finished spans into its own ring buffer (DebugThreadData::ring, under
// its own uncontended WordLock). The writer copies every buffer, sorts each thread's
// events by time (a parent span before the spans it contains) and writes:
//   thread_name metadata    one track per thread, named by its Thread name
//   "X" cat wait            each blocking wait (park), on what object, where
//   "b"/"e" cat hold        how long each named Lock / RLock was held (async: holds
//                           need not nest)
//   "X" cat task            each executor task
//   "X" put / get + "s"/"f" flow arrows from each put to the get that took the item
//   "C"                     queue depth counters
// Every string goes through json_escape (quotes, backslashes, control characters, and
// invalid UTF-8 replaced by U+FFFD).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "debug/state.hpp"

namespace weft::detail::dbg {

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A multi-byte UTF-8 sequence: copy it if well formed, else U+FFFD for this byte.
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len != 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (ok) {
      const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
      ok = cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  return out;
}

namespace {

std::string q(std::string_view s) {
  std::string out(1, '"');  // (not "\"" + ...: gcc 12 -O3 warns falsely, -Wrestrict)
  out += json_escape(s);
  out += '"';
  return out;
}

std::string us(Nanos ns) {
  if (ns < 0) ns = 0;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ns / 1000),
                static_cast<long long>(ns % 1000));
  return buf;
}

std::string hex(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

std::string object_label(const TraceEvent& ev) {
  return describe(ev.obj, ev.kind, ev.name);
}

struct Line {
  Nanos ts;
  int order;   // at equal ts: longer spans (parents) first
  Nanos dur;
  std::string json;
};

}  // namespace

bool write_trace_file(const std::string& path) {
  struct ThreadCopy {
    std::uint32_t tid;
    std::string name;
    std::vector<TraceEvent> events;
    std::uint64_t dropped;
    Nanos dropped_until;
  };
  std::vector<ThreadCopy> copies;
  {
    WordLockGuard reg_guard(registry_lock());
    for (DebugThreadData* rec : registry()) {
      // The record's name is the thread's current (or, once it ended, last) name.
      ThreadCopy c{rec->tid, rec->record->name(), {}, 0, 0};
      WordLockGuard guard(rec->mu);
      c.dropped = rec->dropped;
      c.dropped_until = rec->dropped_until;
      c.events.reserve(rec->ring.size());
      // Oldest first: the ring starts at ring_next once it has wrapped.
      for (std::size_t k = 0; k < rec->ring.size(); ++k)
        c.events.push_back(rec->ring[(rec->ring_next + k) % rec->ring.size()]);
      copies.push_back(std::move(c));
    }
  }
  // Flows: the k-th put of an item (queue, seq) pairs with the k-th get of it, in time
  // order (a queue at a reused address restarts its seq). Unpaired ends are left out.
  std::map<std::pair<const void*, std::uint64_t>,
           std::pair<std::vector<std::pair<Nanos, const TraceEvent*>>,
                     std::vector<std::pair<Nanos, const TraceEvent*>>>>
      ends;
  for (const auto& c : copies) {
    for (const auto& ev : c.events) {
      if (ev.arg == 0 || (ev.type != EvType::put && ev.type != EvType::get)) continue;
      auto& e = ends[{ev.obj, ev.arg}];
      (ev.type == EvType::put ? e.first : e.second).emplace_back(ev.ts, &ev);
    }
  }
  std::map<const TraceEvent*, std::uint64_t> flow_of;
  std::uint64_t next_flow = 0;
  for (auto& [key, e] : ends) {
    std::sort(e.first.begin(), e.first.end());
    std::sort(e.second.begin(), e.second.end());
    for (std::size_t k = 0; k < std::min(e.first.size(), e.second.size()); ++k) {
      flow_of[e.first[k].second] = ++next_flow;
      flow_of[e.second[k].second] = next_flow;
    }
  }
  const int pid = static_cast<int>(::getpid());
  const std::string pidtid_prefix = ",\"pid\":" + std::to_string(pid) + ",\"tid\":";
  std::map<std::uint32_t, std::vector<Line>> lines;  // by track
  std::uint64_t total_dropped = 0;
  std::uint64_t hold_id = 0;
  for (const auto& c : copies) {
    total_dropped += c.dropped;
    for (const auto& ev : c.events) {
      const std::string pt = pidtid_prefix + std::to_string(ev.tid);
      auto& out = lines[ev.tid];
      const std::string obj = object_label(ev);
      const std::string site = ev.file != nullptr && ev.file[0] != '\0'
                                   ? site_string(SourceLoc{ev.file, ev.line})
                                   : std::string();
      switch (ev.type) {
        case EvType::wait:
          out.push_back({ev.ts, 0, ev.dur,
                         "{\"ph\":\"X\",\"cat\":\"wait\",\"name\":" + q("wait " + obj) + pt +
                             ",\"ts\":" + us(ev.ts) + ",\"dur\":" + us(ev.dur) +
                             ",\"args\":{\"object\":" + q(obj) + ",\"kind\":" +
                             q(obj_kind_name(ev.kind)) + ",\"address\":" + q(hex(ev.obj)) +
                             ",\"site\":" + q(site) +
                             ",\"timed_out\":" + (ev.arg2 != 0 ? "true" : "false") +
                             (ev.arg != 0 ? ",\"idle\":true" : "") + "}}"});
          break;
        case EvType::hold: {
          const std::string id = std::to_string(++hold_id);
          const std::string common = "\"cat\":\"hold\",\"name\":" + q("hold " + obj) + pt +
                                     ",\"id\":" + id;
          out.push_back({ev.ts, 1, 0,
                         "{\"ph\":\"b\"," + common + ",\"ts\":" + us(ev.ts) +
                             ",\"args\":{\"object\":" + q(obj) + ",\"site\":" + q(site) + "}}"});
          out.push_back({ev.ts + ev.dur, 1, 0,
                         "{\"ph\":\"e\"," + common + ",\"ts\":" + us(ev.ts + ev.dur) + "}"});
          break;
        }
        case EvType::task: {
          std::string args = "{\"executor\":" + q(obj) + ",\"task_id\":" + std::to_string(ev.arg);
          const auto queued = static_cast<std::int64_t>(ev.arg2);
          if (queued >= 0) args += ",\"queue_wait_us\":" + us(queued);
          args += "}";
          out.push_back({ev.ts, 0, ev.dur,
                         "{\"ph\":\"X\",\"cat\":\"task\",\"name\":" +
                             q("task #" + std::to_string(ev.arg)) + pt + ",\"ts\":" + us(ev.ts) +
                             ",\"dur\":" + us(ev.dur) + ",\"args\":" + args + "}"});
          break;
        }
        case EvType::put:
        case EvType::get: {
          const bool put = ev.type == EvType::put;
          out.push_back({ev.ts, 0, 0,
                         std::string("{\"ph\":\"X\",\"cat\":\"queue\",\"name\":\"") +
                             (put ? "put" : "get") + "\"" + pt + ",\"ts\":" + us(ev.ts) +
                             ",\"dur\":0,\"args\":{\"queue\":" + q(obj) +
                             ",\"depth\":" + std::to_string(ev.arg2) +
                             ",\"seq\":" + std::to_string(ev.arg) + "}}"});
          out.push_back({ev.ts, 2, 0,
                         "{\"ph\":\"C\",\"name\":" + q("depth " + obj) + pt +
                             ",\"ts\":" + us(ev.ts) + ",\"args\":{\"depth\":" +
                             std::to_string(ev.arg2) + "}}"});
          if (auto f = flow_of.find(&ev); f != flow_of.end()) {
            out.push_back({ev.ts, 3, 0,
                           std::string("{\"ph\":\"") + (put ? "s" : "f") +
                               "\",\"cat\":\"flow\",\"name\":\"item\"" + pt +
                               ",\"ts\":" + us(ev.ts) + ",\"id\":" + std::to_string(f->second) +
                               (put ? "" : ",\"bp\":\"e\"") + "}"});
          }
          break;
        }
        case EvType::meta_drop:
          break;
      }
    }
  }
  const std::string tmp = path + ".tmp";
  std::ofstream js(tmp, std::ios::binary | std::ios::trunc);
  if (!js) return false;
  js << "{\"traceEvents\":[\n";
  js << "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" << pid
     << ",\"tid\":0,\"args\":{\"name\":\"weft\"}}";
  std::set<std::uint32_t> tracks;  // threads with events (holds may sit on another's track)
  for (const auto& c : copies)
    for (const auto& ev : c.events) tracks.insert(ev.tid);
  for (const auto& c : copies) {
    if (tracks.count(c.tid) == 0) continue;
    js << ",\n{\"ph\":\"M\",\"name\":\"thread_name\"" << pidtid_prefix << c.tid
       << ",\"args\":{\"name\":" << q(c.name) << "}}";
    js << ",\n{\"ph\":\"M\",\"name\":\"thread_sort_index\"" << pidtid_prefix << c.tid
       << ",\"args\":{\"sort_index\":" << c.tid << "}}";
    if (c.dropped != 0 && !c.events.empty()) {
      lines[c.tid].push_back({c.events.front().ts, -1, 0,
                              "{\"ph\":\"i\",\"s\":\"t\",\"name\":" +
                                  q("trace buffer full: " + std::to_string(c.dropped) +
                                    " older events dropped") +
                                  pidtid_prefix + std::to_string(c.tid) +
                                  ",\"ts\":" + us(c.events.front().ts) + "}"});
    }
  }
  for (auto& [tid, track] : lines) {
    std::stable_sort(track.begin(), track.end(), [](const Line& a, const Line& b) {
      if (a.ts != b.ts) return a.ts < b.ts;
      if (a.order != b.order) return a.order < b.order;
      return a.dur > b.dur;
    });
    for (const Line& l : track) js << ",\n" << l.json;
    std::vector<Line>().swap(track);  // written: free it
  }
  // Threads whose buffer dropped events: how many, and from when on their record is
  // complete; complete_from_ts: from when on every thread's is.
  js << "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"generator\":\"weft\""
     << ",\"events_per_thread\":" << g_trace_capacity.load()
     << ",\"dropped_events\":" << total_dropped << ",\"threads\":[";
  Nanos complete_from = 0;
  bool first_dropped = true;
  for (const auto& c : copies) {
    if (c.dropped == 0) continue;
    complete_from = std::max(complete_from, c.dropped_until);
    js << (first_dropped ? "" : ",") << "{\"tid\":" << c.tid << ",\"dropped\":" << c.dropped
       << ",\"complete_from_ts\":" << us(c.dropped_until) << "}";
    first_dropped = false;
  }
  js << "],\"complete_from_ts\":" << us(complete_from) << "}}\n";
  js.close();
  if (!js) return false;
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace weft::detail::dbg
