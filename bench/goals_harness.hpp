// SPDX-License-Identifier: Apache-2.0
// bench/goals_harness.hpp: interleaved rounds and per-goal verdicts for weft_goals.
//
// A *group* is a few measurements that are compared with one another (weft and its
// anchors on one workload). A round runs every group once, in registration order, and
// the measurements of a group in a shuffled order, so that weft and its anchors run
// next to each other in time and none always runs first. Every group also runs once
// before the first round, untimed (warm-up: page faults, thread pools, caches).
//
// A *goal* is a ratio computed from the values of one round (weft's time over an
// anchor's, both from that round), so each round gives one ratio. The goal is reported
// with the median and the worst of those ratios and judged on both: the worst round
// must reach `worst_threshold`, the median `median_threshold` (usually the same).
// An anchor that is not installed makes its goals print "skipped: install PACKAGE".
//
// The machine must be quiet for a verdict: each group's run in a round is watched
// (what other processes used of the CPUs, from /proc/stat less this process's own CPU
// time and that of its reaped children) and repeated, up to three more times, while
// others used more than a quarter of a core. A goal with a round that stayed busy says
// "not judged". With --quick (tiny sizes, for the smoke test) nothing is judged.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace goals {

struct Options {
  bool quick = false;           // tiny sizes; verdicts are not judged
  int rounds = 5;               // interleaved rounds (the issue asks for at least 5)
  std::vector<std::string> only;  // run only the groups whose section or name contains one of these
  bool placement = false;       // sample the CPU each task ran on (executor groups)
  bool strict = false;          // exit 1 when a judged goal is not met
  bool list = false;            // print the groups and goals, run nothing
};

// Which way a value or a ratio is better.
enum class Better { lower, higher };

// One value a measurement produces per run ("weft::Queue 2P2C", in "M items/s").
struct Value {
  std::string name;
  std::string unit;
  Better better = Better::lower;
};

// The values of one round, by value name.
using Round = std::map<std::string, double>;

struct Goal {
  std::string section;
  std::string text;                 // what is compared, e.g. "TPE() vs tbb::task_group"
  std::vector<std::string> needs;   // value names the ratio reads
  std::function<double(const Round&)> ratio;
  Better better = Better::higher;   // higher: ratio >= threshold; lower: ratio <= threshold
  double worst_threshold = 0;       // 0: reported, not judged
  double median_threshold = 0;
  bool percent = false;             // print the ratio as a percentage
};

class Registry {
 public:
  // A group of measurements. `run` is called once per round for each of its entries.
  struct Measurement {
    std::string label;              // "weft::ThreadPoolExecutor()"
    std::vector<Value> values;      // what one run returns, in order
    std::function<std::vector<double>()> run;
  };

  // Adds a group: `section` (executor, process, queue, lock), its name, and what it
  // measures. `note` is printed under the section's tables (how it is measured).
  void group(std::string section, std::string name, std::string note,
             std::vector<Measurement> measurements);
  // A value of group `group_name` that an anchor would give if it were installed: goals
  // that need it are skipped with "skipped: install PACKAGE".
  void missing(std::string group_name, std::string value_name, std::string package);
  void goal(Goal g);
  // A line printed under a section's tables (placement samples, etc.), prefixed with the
  // round it was written in. Call it from the measuring thread only.
  void note(const std::string& section, const std::string& line);

  // Runs warm-up and rounds, prints the Markdown report on stdout, returns the exit code.
  int run(const Options& options);

 private:
  struct Group {
    std::string section, name, note;
    std::vector<Measurement> measurements;
  };
  std::vector<Group> groups_;
  struct Missing {
    std::string group, package;
  };
  std::map<std::string, Missing> missing_;  // by value name
  std::vector<Goal> goals_;
  std::map<std::string, std::vector<std::string>> notes_;
  int round_ = 0;  // 0: warm-up
};

// Ratio helpers: both values from the same round.
// How many times faster `weft` is than `anchor` (> 1: weft is faster), for values where
// lower is better (times) or higher is better (rates).
std::function<double(const Round&)> speedup(std::string weft, std::string anchor, Better better);
// a / b.
std::function<double(const Round&)> quotient(std::string a, std::string b);

// Milliseconds since `start`, as a double.
double elapsed_ms(const std::chrono::steady_clock::time_point& start);

}  // namespace goals
