// SPDX-License-Identifier: Apache-2.0
// tools/weft-demo/tour.hpp: the framework every lesson of the tour is written against.
//
// A lesson is a function `void(Lesson&)` registered under a name (TOUR_LESSON below) that
// has its line in the catalogue (catalogue.cpp). It runs the guide's example with weft,
// prints its output through Lesson::print (thread-safe; captured so it can be shown beside
// what the guide says Python prints), then checks the guide's promises on what it measured
// with Lesson::check. Timing claims (speed-ups) go through Lesson::claim: judged in a full
// run, only reported with --quick, never asserted by tests. A claim is judged only if the
// machine was quiet while its numbers were measured (Lesson::measure watches what other
// processes used of the CPUs meanwhile).
//
// Test hooks (for tests/tour only; the environment variable WEFT_DEMO_TEST holds a comma-
// separated list of them):
//   judge-quick  judge timing claims with --quick too, as in a full run (measurements are
//                watched and repeated when the machine was busy);
//   gate         before the run's first measurement, print "weft-demo test gate: ..." on
//                stderr and wait for a line (or end of file) on stdin, so a test can start
//                a CPU hog in the middle of a lesson;
//   fail-claim   the run's first timing claim fails as though its threshold were
//                impossible, and its measurement reads quiet, so it is judged (and fails)
//                whatever the load.
// WEFT_DEMO_INJECT_FAILURE (set to anything) adds a failed promise to every lesson.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tour {

struct Settings {
  bool quick = false;         // --quick: shrink the work (tests use it)
  std::string out_dir;        // where lessons write files (the gil SVG); empty: the temp dir
  std::string self_path;      // this executable, for lessons that re-exec it
};

// True if the test hook `name` is listed in WEFT_DEMO_TEST (see the top of this file).
bool test_hook(std::string_view name);
// True if timing claims are watched and judged: in a full run, and with --quick under the
// test hook judge-quick.
bool claims_judged(const Settings& settings);

// What other processes used of the CPUs from construction to others_percent(): the busy
// time of every CPU in /proc/stat less this process's own CPU time (its threads, and its
// children once waited for, e.g. a process pool's workers after it shut down).
class CpuMeter {
 public:
  CpuMeter();
  // Percent of one core that other processes used on average, or -1 when unknown (no
  // /proc/stat). The kernel counts in ticks (10 ms): short intervals are coarse.
  double others_percent() const;
  double seconds() const;

 private:
  double busy_ = -1, own_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// The load on the machine while one measurement ran (see Lesson::measure).
struct Quietness {
  // Other processes may use this much of a core and the machine still counts as quiet.
  static constexpr double kBusyPercent = 25;
  double others_percent = -1;  // -1: not watched (--quick) or unknown
  int runs = 0;                // how many times the measurement ran
  bool busy() const { return others_percent >= kBusyPercent; }
};

// One bar of a chart: a label and a speed-up.
struct Bar {
  std::string label;
  double value = 0;
};

class Lesson {
 public:
  explicit Lesson(const Settings& settings) : settings_(settings) {}
  Lesson(const Lesson&) = delete;
  Lesson& operator=(const Lesson&) = delete;

  const Settings& settings() const { return settings_; }
  bool quick() const { return settings_.quick; }

  // A duration of the guide (time.sleep(2) is guide_time(2)): as written in a full run,
  // one twentieth of it with --quick.
  std::chrono::nanoseconds guide_time(double seconds) const;
  // Sleeps for guide_time(seconds).                                  (Python: time.sleep)
  void sleep(double seconds) const;

  // Appends a line to the C++ column. Thread-safe; lines keep the order of the calls.
  void print(std::string line);
  // Snapshot of the C++ column so far.
  std::vector<std::string> lines() const;
  // Position of the first line equal to `line`, or npos.
  std::size_t find(std::string_view line) const;
  // True if each of `wanted` is printed, in this order (other lines may come between).
  bool printed_in_order(std::initializer_list<std::string_view> wanted) const;

  // The Python column: what the guide says its program prints.
  void python(std::vector<std::string> lines) { python_ = std::move(lines); }
  // A paragraph printed under the columns (why it behaves so, what differs from Python).
  void explain(std::string text) { notes_.push_back(std::move(text)); }
  // A block printed verbatim under the notes (tables, charts).
  void block(std::string text) { blocks_.push_back(std::move(text)); }

  // Records a promise of the guide and whether it held here; returns `held`.
  bool check(std::string promise, bool held, std::string measured = {});
  // Runs `measurement`, the part of a lesson whose numbers a timing claim judges, while a
  // CpuMeter watches the machine (at least 0.25 s, so that the kernel's ticks resolve a
  // quarter of a core). If other processes used Quietness::kBusyPercent of a core or more,
  // runs it again, up to three more times, until a run is quiet. The measurement must start
  // afresh each time: the lines it printed in a busy run are taken back. With --quick it
  // runs once, unwatched. Returns the load during the run whose numbers stand.
  Quietness measure(const std::function<void()>& measurement);
  // Records a timing claim measured `during` a measure(): a promise in a full run when the
  // machine was quiet during it; only reported with --quick or when it was busy.
  bool claim(std::string promise, bool held, std::string measured, const Quietness& during);
  // The lesson could not run a part (a missing piece); reported, not a failure.
  void skip(std::string what) { skipped_.push_back(std::move(what)); }

  // Progress of a long lesson, 0..1, shown by the tour while the lesson runs.
  void progress(double fraction, std::string label = {});
  // What the tour shows when the lesson reports nothing: elapsed / expected.
  void expect_seconds(double full_run_seconds);

  // Filled in by the tour.
  struct Check {
    std::string promise, measured;
    bool held = false, timing = false;
    Quietness during;     // timing claims: the load while measured
    bool judged = false;  // timing claims: counted (held or failed) in the result
  };
  const std::vector<Check>& checks() const { return checks_; }
  const std::vector<std::string>& python_lines() const { return python_; }
  const std::vector<std::string>& notes() const { return notes_; }
  const std::vector<std::string>& blocks() const { return blocks_; }
  const std::vector<std::string>& skipped() const { return skipped_; }
  double progress_fraction(double elapsed_seconds, std::string* label) const;

 private:
  const Settings& settings_;
  mutable std::mutex mu_;
  std::vector<std::string> out_;
  std::vector<std::string> python_, notes_, blocks_, skipped_;
  std::vector<Check> checks_;
  double fraction_ = -1, expected_ = 0;
  std::string label_;
};

using LessonFn = void (*)(Lesson&);

// The child process of the daemon lesson (`weft-demo daemon-child`), set by that lesson's
// file when it is built; null otherwise.
using ChildFn = int (*)(bool quick);
extern ChildFn daemon_child;
// The child process of the interrupt lesson (`weft-demo interrupt-child`), set by that
// lesson's file when it is built; null otherwise.
extern ChildFn interrupt_child;
// A worker process of the cluster lesson (`weft-demo cluster-worker --url URL --parent PID
// --lease-ms MS`), set by that lesson's file when it is built (with weft::dist); null
// otherwise.
using ClusterWorkerFn = int (*)(const std::string& url, long parent, long lease_ms);
extern ClusterWorkerFn cluster_worker;

// Registers `fn` as the lesson `name`, which must have its line in the catalogue
// (catalogue.cpp, which also says how to add a lesson).
struct Register {
  Register(const char* name, LessonFn fn);
};

// The catalogue: every lesson of the tour, in order, with or without a body.
struct Entry {
  std::string name, title, source, needs;
  LessonFn fn = nullptr;
};
std::vector<Entry>& catalogue();

// Runs the named lessons (all when empty); prints each and the summary. Returns the
// exit status: 0 if every promise held, 1 otherwise, 2 for an unknown lesson.
int run(const std::vector<std::string>& names, Settings settings);
void list(std::ostream& out);

// Formatting helpers shared by lessons.
std::string fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string bar_chart(const std::vector<Bar>& bars, std::string_view unit, int width = 40);
// Writes a horizontal bar chart as a standalone SVG file; returns false on I/O error.
bool write_svg_chart(const std::string& path, const std::string& title,
                     const std::vector<Bar>& bars, std::string_view unit);
// Seconds since `start` on the steady clock.
double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace tour

#define TOUR_LESSON(name, fn) static const ::tour::Register tour_register_##fn(name, fn)
