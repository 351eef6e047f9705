// SPDX-License-Identifier: Apache-2.0
// tools/weft-demo/runner.cpp: runs the chosen lessons and prints each beside the guide's
// output, its promises and claims, and the summary.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "progress.hpp"
#include "text.hpp"
#include "tour.hpp"

namespace tour {
namespace {

constexpr int kWidth = 92;  // width of notes

struct Totals {
  int lessons = 0, not_built = 0, promises = 0, held = 0, claims = 0, claims_judged = 0;
  int claims_held = 0, claims_busy = 0;
};

void run_one(std::ostream& o, const Entry& e, std::size_t index, std::size_t total,
             const Settings& settings, Totals& totals) {
  std::string head = fmt("== %zu/%zu  %s: %s ", index, total, e.name.c_str(), e.title.c_str());
  if (width_of(head) < kWidth) head.append(static_cast<std::size_t>(kWidth - width_of(head)), '=');
  o << "\n" << head << "\n";
  o << "   guide: " << e.source << "   weft: " << e.needs << "\n";
  if (e.fn == nullptr) {
    o << "  (not built in this weft-demo: it needs " << e.needs << ")\n";
    ++totals.not_built;
    return;
  }
  Lesson lesson(settings);
  const auto start = std::chrono::steady_clock::now();
  std::string error;
  {
    Ticker ticker(lesson);
    try {
      e.fn(lesson);
    } catch (const std::exception& ex) {
      error = ex.what();
    }
  }
  const double took = seconds_since(start);
  ++totals.lessons;
  // The guide shows code for its own sections; for what it only names, the right column is
  // what the same program prints in Python.
  const bool shown = e.source.rfind("Core", 0) == 0 || e.source.rfind("Communication", 0) == 0 ||
                     e.source == "Daemon threads" || e.source == "Understanding GIL";
  print_columns(o, lesson.lines(), lesson.python_lines(),
                shown ? "Python, as the guide says" : "Python, the same program");
  for (auto& n : lesson.notes()) {
    o << "\n";
    for (auto& piece : wrap(n, kWidth - 2)) o << "  " << piece << "\n";
  }
  for (auto& b : lesson.blocks()) o << "\n" << b;
  if (!lesson.blocks().empty()) o << "\n";
  o << "\n";
  for (auto& s : lesson.skipped()) o << "  [skipped] " << s << "\n";
  if (!error.empty()) lesson.check("the lesson runs to the end", false, "threw: " + error);
  if (std::getenv("WEFT_DEMO_INJECT_FAILURE") != nullptr)  // tests check the exit status
    lesson.check("an injected failure (WEFT_DEMO_INJECT_FAILURE is set)", false);
  for (auto& c : lesson.checks()) {
    std::string tag, measured = c.measured, why;
    if (!c.timing) {
      ++totals.promises;
      if (c.held) ++totals.held;
      tag = c.held ? "[held]  " : "[FAILED]";
    } else {
      ++totals.claims;
      if (c.judged) {
        ++totals.claims_judged;
        if (c.held) ++totals.claims_held;
        tag = c.held ? "[held]  " : "[FAILED]";
        if (c.during.others_percent >= 0)
          measured += fmt("%sother processes used %.0f%% of a core", measured.empty() ? "" : "; ",
                          c.during.others_percent);
      } else if (c.during.busy()) {
        ++totals.claims_busy;
        tag = "[not judged]";
        why = fmt("not judged: the machine was busy (other processes used %.0f%% of a core)",
                  c.during.others_percent) +
              fmt(", in each of %d measurements", c.during.runs);
      } else {
        tag = "[not judged, --quick]";
      }
    }
    o << "  " << tag << " " << (c.timing ? "timing: " : "") << c.promise;
    if (!measured.empty()) o << "  (" << measured << ")";
    o << "\n";
    if (!why.empty()) o << "      " << why << "\n";
  }
  o << fmt("  lesson time: %.2f s\n", took);
  o.flush();
}

}  // namespace

int run(const std::vector<std::string>& names, Settings settings) {
  std::vector<const Entry*> chosen;
  if (names.empty()) {
    for (auto& e : catalogue()) chosen.push_back(&e);
  } else {
    for (auto& n : names) {
      auto it = std::find_if(catalogue().begin(), catalogue().end(),
                             [&](const Entry& e) { return e.name == n; });
      if (it == catalogue().end()) {
        std::cerr << "weft-demo: no lesson named '" << n << "' (see weft-demo --list)\n";
        return 2;
      }
      chosen.push_back(&*it);
    }
  }
  std::ostream& o = std::cout;
  o << "weft tour: the Python threading guide, lesson by lesson, in C++"
    << (settings.quick ? " (--quick: shrunk work, guide times / 20)" : "") << "\n";
  o << "cores: " << std::thread::hardware_concurrency();
  if (claims_judged(settings))
    o << fmt("; a timing claim is judged only if other processes used less than %.0f%% of a "
             "core while it was measured (up to 4 tries)",
             Quietness::kBusyPercent);
  o << "\n";
  Totals totals;
  for (std::size_t i = 0; i < chosen.size(); ++i)
    run_one(o, *chosen[i], i + 1, chosen.size(), settings, totals);
  const bool ok = totals.held == totals.promises && totals.claims_held == totals.claims_judged;
  o << "\n== Summary\n";
  o << fmt("Lessons run: %d of %zu", totals.lessons, chosen.size());
  if (totals.not_built) o << fmt(" (%d not built: their part of weft is missing)", totals.not_built);
  o << "\n";
  o << fmt("Promises held: %d of %d\n", totals.held, totals.promises);
  o << fmt("Timing claims held: %d of %d judged", totals.claims_held, totals.claims_judged);
  if (totals.claims_busy > 0)
    o << fmt("; %d not judged: the machine was busy while they were measured", totals.claims_busy);
  if (totals.claims > totals.claims_judged + totals.claims_busy)
    o << fmt("; %d not judged with --quick", totals.claims - totals.claims_judged - totals.claims_busy);
  o << "\n";
  o << (ok ? "Result: every promise held\n" : "Result: SOME PROMISES FAILED\n");
  o.flush();
  return ok ? 0 : 1;
}

}  // namespace tour
