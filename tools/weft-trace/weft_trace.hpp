// SPDX-License-Identifier: Apache-2.0
// weft-trace: summary and HTML page of a trace.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "model.hpp"

namespace weft_trace {

struct WaitTotal {
  std::string object, kind;
  std::size_t count = 0;
  double total = 0, max = 0;  // microseconds
};

struct LongestWait {
  std::string object, thread, site;
  double at = 0, dur = 0;  // microseconds; `at` from the trace start
};

struct Summary {
  std::vector<WaitTotal> top;  // by total wait, longest first
  std::optional<LongestWait> longest;
  std::optional<WaitTotal> most_contended;  // the Lock / RLock waited for most often
  std::size_t waits = 0, tasks = 0;
};

Summary summarize(const Trace& t);
void print_summary(std::ostream& out, const std::string& source, const Trace& t, std::size_t top);

// Writes one self-contained HTML page (inline script, drawn on a canvas, no network
// access). Lays the spans out in rows first (Span::depth).
void write_html(std::ostream& out, Trace& t, const std::string& title);

}  // namespace weft_trace
