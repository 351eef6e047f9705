// tools/weft-demo/tour.hpp: the framework every lesson of the tour is written against.
//
// A lesson is a function `void(Lesson&)` registered under a name. It runs the guide's
// example with weft, prints its output through Lesson::print (thread-safe; captured so it
// can be shown beside what the guide says Python prints), then checks the guide's
// promises on what it measured with Lesson::check. Timing claims (speed-ups) go through
// Lesson::claim: judged in a full run, only reported with --quick, never asserted by tests.
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
  bool busy = false;          // set by run(): the load average was at least the core count
};

// The 1-minute load average (Linux /proc/loadavg), or -1 when unknown.
double load_average();

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
  // Records a timing claim (a speed-up): a promise in a full run on a machine that is not
  // busy; only reported with --quick or when the load average was at least the core count.
  bool claim(std::string promise, bool held, std::string measured = {});
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

// Registers `fn` as the lesson `name` (see the catalogue in tour.cpp for the order).
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
