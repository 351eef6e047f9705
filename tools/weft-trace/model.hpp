// SPDX-License-Identifier: Apache-2.0
// weft-trace: the trace as read from a Chrome trace-event JSON file.
//
// The file is read as a stream (nlohmann-json's SAX interface): no document tree is
// built, and each event is kept in a compact form (repeated strings stored once), so
// memory grows with the number of events kept, not with the size of the JSON text.
#pragma once

#include <cstdint>
#include <deque>
#include <iosfwd>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace weft_trace {

// Each distinct string once; ids are dense, 0 is "".
class Strings {
 public:
  Strings() { id(""); }
  std::uint32_t id(std::string_view s);
  const std::string& operator[](std::uint32_t id) const { return all_[id]; }
  std::size_t size() const { return all_.size(); }

 private:
  std::deque<std::string> all_;  // stable addresses: the map's keys view them
  std::unordered_map<std::string_view, std::uint32_t> ids_;
};

enum class Cat : std::uint8_t { wait, task, queue, hold, other };

// A span: an "X" event (wait, task, put, get) or a lock hold ("b"/"e" pair).
// Times are microseconds from the trace's time base (as in the file).
struct Span {
  double ts = 0, dur = 0;
  int tid = 0;
  Cat cat = Cat::other;
  bool internal = false;   // about one of weft's internal locks ("<queue>.mutex")
  bool idle = false;       // a wait for work (an empty queue, an idle worker)
  bool timed_out = false;  // a wait that ended by its timeout
  int depth = 0;           // row within its lane (filled by the page layout)
  std::uint32_t name = 0;    // the event's name
  std::uint32_t object = 0;  // args.object / queue / executor, else the name
  std::uint32_t kind = 0;    // args.kind ("Lock", "Queue", ...), or ""
  std::uint32_t site = 0;    // args.site, or ""
  std::uint32_t info = 0;    // the other args, one "key: value" line each
};

struct Flow {
  int from_tid = 0, to_tid = 0;
  double from_ts = 0, to_ts = 0;
};

struct Counter {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (ts, value), sorted by ts
};

struct Lane {
  int tid = 0;
  std::string name;
  int sort_index = 0;
  std::uint64_t dropped = 0;  // older events of this thread that its buffer dropped
  double complete_from = 0;   // its record is complete from here on (when dropped > 0)
};

struct Trace {
  Strings strings;
  std::vector<Lane> lanes;  // sorted
  std::vector<Span> spans;  // X events (waits, tasks, puts, gets)
  std::vector<Span> holds;  // b/e pairs
  std::vector<Flow> flows;  // s/f pairs
  std::vector<Counter> counters;
  std::uint64_t dropped = 0;  // all threads
  double start = 0, end = 0;  // every event
  // Every thread's record is complete from here on: the latest point up to which a
  // thread's buffer dropped events (start when nothing was dropped).
  double complete_from = 0;

  const std::string& str(std::uint32_t id) const { return strings[id]; }
};

// Reads a trace; throws std::runtime_error with a message on malformed input.
Trace load(const std::string& path);
Trace parse(std::istream& in, const std::string& source);

// The object a span or hold is about.
inline const std::string& object_of(const Trace& t, const Span& s) { return t.str(s.object); }

}  // namespace weft_trace
