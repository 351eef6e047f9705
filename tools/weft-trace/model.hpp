// weft-trace: the trace as read from a Chrome trace-event JSON file.
#pragma once

// nlohmann-json trips gcc 12's -Wnull-dereference at -O3 (a false positive inside it).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wnull-dereference"
#endif
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace weft_trace {

// Times are microseconds from the trace's time base (as in the file).
struct Span {
  int tid = 0;
  double ts = 0, dur = 0;
  std::string cat;   // wait, task, queue, hold
  std::string name;
  nlohmann::json args;
  int depth = 0;     // nesting level within its lane (filled by layout)
};

struct Flow {
  int from_tid = 0, to_tid = 0;
  double from_ts = 0, to_ts = 0;
};

struct Counter {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (ts, value)
};

struct Lane {
  int tid = 0;
  std::string name;
  int sort_index = 0;
};

struct Trace {
  std::vector<Lane> lanes;  // sorted
  std::vector<Span> spans;  // X events (waits, tasks, puts, gets)
  std::vector<Span> holds;  // b/e pairs
  std::vector<Flow> flows;  // s/f pairs
  std::vector<Counter> counters;
  std::uint64_t dropped = 0;
  double start = 0, end = 0;
};

// Parses a trace; throws std::runtime_error with a message on malformed input.
Trace load(const std::string& path);
Trace parse(const nlohmann::json& doc);

// The object a span or hold is about: args.object / args.queue / args.executor, or the name.
std::string object_of(const Span& s);

}  // namespace weft_trace
