// SPDX-License-Identifier: Apache-2.0
#include "goals_harness.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <utility>

namespace goals {

namespace {

// Other processes may use this much of one core during a group's run and the run still
// counts as quiet.
constexpr double kQuietPercent = 25;
// A busy run is repeated up to this many more times.
constexpr int kRetries = 3;

double seconds_of(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
}

// CPU seconds every CPU spent busy (/proc/stat's "cpu" line: all but idle and iowait),
// and this process's own (its threads and its reaped children: a process pool's workers
// once the pool has stopped). Negative busy: /proc/stat could not be read.
struct CpuSample {
  double busy = -1, own = 0;
  std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now();

  static CpuSample now() {
    CpuSample s;
    std::ifstream stat("/proc/stat");
    std::string cpu;
    unsigned long long field[8] = {};
    if (stat >> cpu && cpu == "cpu") {
      for (auto& f : field) stat >> f;
      // user nice system idle iowait irq softirq steal
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      if (stat && ticks > 0)
        s.busy = static_cast<double>(field[0] + field[1] + field[2] + field[5] + field[6] +
                                     field[7]) / ticks;
    }
    timespec process{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &process);
    rusage children{};
    getrusage(RUSAGE_CHILDREN, &children);
    s.own = static_cast<double>(process.tv_sec) + static_cast<double>(process.tv_nsec) * 1e-9 +
            seconds_of(children.ru_utime) + seconds_of(children.ru_stime);
    return s;
  }
};

// Percent of one core that other processes used between `a` and `b`; -1 if unknown.
double others_percent(const CpuSample& a, const CpuSample& b) {
  const double wall = std::chrono::duration<double>(b.at - a.at).count();
  if (a.busy < 0 || b.busy < 0 || wall <= 0) return -1;
  return std::max(0.0, (b.busy - a.busy) - (b.own - a.own)) / wall * 100;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double worst(const std::vector<double>& v, Better better) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  return better == Better::higher ? *std::min_element(v.begin(), v.end())
                                  : *std::max_element(v.begin(), v.end());
}

bool passes(double x, double threshold, Better better) {
  return better == Better::higher ? x >= threshold : x <= threshold;
}

std::string number(double x) {
  char buf[32];
  const double a = std::fabs(x);
  if (std::isnan(x)) return "n/a";
  std::snprintf(buf, sizeof buf, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", x);
  return buf;
}

std::string ratio_text(double x, bool percent) {
  if (std::isnan(x)) return "n/a";
  char buf[32];
  if (percent) std::snprintf(buf, sizeof buf, "%.0f%%", x * 100);
  else std::snprintf(buf, sizeof buf, "%.2fx", x);
  return buf;
}

std::string threshold_text(const Goal& g) {
  if (g.worst_threshold == 0 && g.median_threshold == 0) return "(reported)";
  const char* op = g.better == Better::higher ? ">=" : "<=";
  if (g.worst_threshold == g.median_threshold)
    return std::string(op) + " " + ratio_text(g.worst_threshold, g.percent) + " every round";
  return "median " + std::string(op) + " " + ratio_text(g.median_threshold, g.percent) +
         ", every round " + op + " " + ratio_text(g.worst_threshold, g.percent);
}

bool selected(const Options& o, const std::string& section, const std::string& name) {
  if (o.only.empty()) return true;
  for (const auto& want : o.only)
    if (section.find(want) != std::string::npos || name.find(want) != std::string::npos)
      return true;
  return false;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

}  // namespace

double elapsed_ms(const std::chrono::steady_clock::time_point& start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::function<double(const Round&)> speedup(std::string weft, std::string anchor, Better better) {
  return [weft = std::move(weft), anchor = std::move(anchor), better](const Round& r) {
    const double w = r.at(weft), a = r.at(anchor);
    return better == Better::lower ? a / w : w / a;
  };
}

std::function<double(const Round&)> quotient(std::string a, std::string b) {
  return [a = std::move(a), b = std::move(b)](const Round& r) { return r.at(a) / r.at(b); };
}

void Registry::group(std::string section, std::string name, std::string note,
                     std::vector<Measurement> measurements) {
  groups_.push_back({std::move(section), std::move(name), std::move(note), std::move(measurements)});
}

void Registry::missing(std::string group_name, std::string value_name, std::string package) {
  missing_[std::move(value_name)] = {std::move(group_name), std::move(package)};
}

void Registry::goal(Goal g) { goals_.push_back(std::move(g)); }

void Registry::note(const std::string& section, const std::string& line) {
  notes_[section].push_back((round_ == 0 ? "warm-up: " : "round " + std::to_string(round_) + ": ") + line);
}

int Registry::run(const Options& o) {
  std::vector<std::size_t> chosen;
  for (std::size_t i = 0; i < groups_.size(); ++i)
    if (selected(o, groups_[i].section, groups_[i].name)) chosen.push_back(i);

  if (o.list) {
    for (std::size_t i : chosen) {
      std::printf("%s / %s:", groups_[i].section.c_str(), groups_[i].name.c_str());
      for (const auto& m : groups_[i].measurements) std::printf(" [%s]", m.label.c_str());
      std::printf("\n");
    }
    for (const auto& g : goals_) std::printf("goal (%s): %s\n", g.section.c_str(), g.text.c_str());
    return 0;
  }

  // Which group produces each value, and the value's description.
  std::map<std::string, std::size_t> group_of;
  std::map<std::string, Value> value_of;
  for (std::size_t i : chosen)
    for (const auto& m : groups_[i].measurements)
      for (const auto& v : m.values) {
        group_of[v.name] = i;
        value_of[v.name] = v;
      }

  const int rounds = std::max(1, o.rounds);
  std::vector<Round> results(static_cast<std::size_t>(rounds));
  // busy[group][round]: what other processes used, percent of a core, in the run kept.
  std::map<std::size_t, std::vector<double>> busy;
  std::map<std::size_t, std::vector<int>> runs;

  auto run_group = [&](std::size_t gi, Round* into, std::mt19937& rng) {
    auto& g = groups_[gi];
    std::vector<std::size_t> order(g.measurements.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t k : order) {
      const auto& m = g.measurements[k];
      std::fprintf(stderr, "  %s / %s: %s\n", g.section.c_str(), g.name.c_str(), m.label.c_str());
      const std::vector<double> got = m.run();
      if (into == nullptr) continue;
      for (std::size_t v = 0; v < m.values.size() && v < got.size(); ++v)
        (*into)[m.values[v].name] = got[v];
    }
  };

  const auto started = std::chrono::steady_clock::now();
  std::mt19937 rng(12);
  std::fprintf(stderr, "weft_goals: warm-up\n");
  for (std::size_t gi : chosen) run_group(gi, nullptr, rng);
  for (int r = 0; r < rounds; ++r) {
    std::fprintf(stderr, "weft_goals: round %d of %d\n", r + 1, rounds);
    round_ = r + 1;
    for (std::size_t gi : chosen) {
      double others = -1;
      int tries = 0;
      do {
        Round got;
        const CpuSample before = CpuSample::now();
        run_group(gi, &got, rng);
        others = others_percent(before, CpuSample::now());
        ++tries;
        for (auto& [k, v] : got) results[static_cast<std::size_t>(r)][k] = v;
      } while (!o.quick && others >= kQuietPercent && tries <= kRetries);
      busy[gi].push_back(others);
      runs[gi].push_back(tries);
    }
  }
  const double total_s = elapsed_ms(started) / 1000;

  // ---- report ----
  std::printf("# weft goals (issue 12): %d interleaved round%s%s\n\n", rounds, rounds == 1 ? "" : "s",
              o.quick ? ", QUICK MODE (tiny sizes: nothing is judged)" : "");
  std::printf("- %s; %ld CPUs (%s); load average at the end: ", utc_now().c_str(),
              sysconf(_SC_NPROCESSORS_ONLN), cpu_model().c_str());
  {
    std::ifstream la("/proc/loadavg");
    std::string a, b, c;
    la >> a >> b >> c;
    std::printf("%s %s %s; ran %.0f s (warm-up included)\n", a.c_str(), b.c_str(), c.c_str(), total_s);
  }
  std::printf("- Every value is one run per round; a group's measurements ran next to each other, "
              "in a shuffled order. A goal's ratio is taken within each round; *median* and "
              "*worst* are over the rounds. Busy: what other processes used of the CPUs during "
              "the group's run (percent of one core; a run over %.0f%% was repeated up to %d times).\n",
              kQuietPercent, kRetries);

  int met = 0, failed = 0, skipped = 0, unjudged = 0, reported = 0;
  std::vector<std::string> sections;
  for (std::size_t gi : chosen)
    if (std::find(sections.begin(), sections.end(), groups_[gi].section) == sections.end())
      sections.push_back(groups_[gi].section);

  for (const auto& section : sections) {
    std::printf("\n## %s\n", section.c_str());
    for (std::size_t gi : chosen) {
      const auto& g = groups_[gi];
      if (g.section != section) continue;
      std::printf("\n### %s\n\n%s\n\n| value | unit | median | worst |", g.name.c_str(), g.note.c_str());
      for (int r = 0; r < rounds; ++r) std::printf(" round %d |", r + 1);
      std::printf("\n|---|---|---:|---:|");
      for (int r = 0; r < rounds; ++r) std::printf("---:|");
      std::printf("\n");
      for (const auto& m : g.measurements)
        for (const auto& v : m.values) {
          std::vector<double> xs;
          for (const auto& res : results)
            if (auto it = res.find(v.name); it != res.end()) xs.push_back(it->second);
          std::printf("| %s | %s | %s | %s |", v.name.c_str(), v.unit.c_str(),
                      number(median(xs)).c_str(), number(worst(xs, v.better)).c_str());
          for (double x : xs) std::printf(" %s |", number(x).c_str());
          std::printf("\n");
        }
      for (const auto& [value, why] : missing_)
        if (why.group == g.name)
          std::printf("| %s | | skipped: install %s | |\n", value.c_str(), why.package.c_str());
      std::printf("| busy: others' CPU | %% of a core | %s | %s |", number(median(busy[gi])).c_str(),
                  number(worst(busy[gi], Better::lower)).c_str());
      for (std::size_t r = 0; r < busy[gi].size(); ++r)
        std::printf(" %s%s |", number(busy[gi][r]).c_str(),
                    runs[gi][r] > 1 ? (" (" + std::to_string(runs[gi][r]) + " runs)").c_str() : "");
      std::printf("\n");
    }

    bool header = false;
    for (const auto& goal : goals_) {
      if (goal.section != section) continue;
      std::string verdict;
      std::vector<double> ratios;
      double max_busy = -1;
      for (const auto& need : goal.needs)
        if (auto it = missing_.find(need); it != missing_.end()) verdict = "skipped: install " + it->second.package;
      bool have_all = verdict.empty();
      for (const auto& need : goal.needs)
        if (have_all && !group_of.count(need)) {
          have_all = false;
          verdict = "not run (not selected)";
        }
      if (!have_all) {
        if (verdict.rfind("skipped", 0) == 0) ++skipped;
        if (verdict.rfind("not run", 0) == 0) continue;
      } else {
        for (std::size_t r = 0; r < results.size(); ++r) {
          bool complete = true;
          for (const auto& need : goal.needs) complete = complete && results[r].count(need);
          if (complete) ratios.push_back(goal.ratio(results[r]));
          for (const auto& need : goal.needs) max_busy = std::max(max_busy, busy[group_of[need]][r]);
        }
        const double med = median(ratios), low = worst(ratios, goal.better);
        if (o.quick) {
          verdict = "quick mode: not judged";
          ++unjudged;
        } else if (goal.worst_threshold == 0 && goal.median_threshold == 0) {
          verdict = "reported";
          ++reported;
        } else if (max_busy >= kQuietPercent) {
          verdict = "not judged: the machine was busy (others used up to " + number(max_busy) + "% of a core)";
          ++unjudged;
        } else if (passes(low, goal.worst_threshold, goal.better) &&
                   passes(med, goal.median_threshold, goal.better)) {
          verdict = "met";
          ++met;
        } else {
          verdict = "**not met**";
          ++failed;
        }
      }
      if (!header) {
        std::printf("\n### Goals: %s\n\n| goal | median | worst | per round | threshold | verdict |\n"
                    "|---|---:|---:|---|---|---|\n", section.c_str());
        header = true;
      }
      std::string per_round;
      for (double x : ratios) per_round += (per_round.empty() ? "" : " ") + ratio_text(x, goal.percent);
      std::printf("| %s | %s | %s | %s | %s | %s |\n", goal.text.c_str(),
                  ratio_text(median(ratios), goal.percent).c_str(),
                  ratio_text(worst(ratios, goal.better), goal.percent).c_str(), per_round.c_str(),
                  threshold_text(goal).c_str(), verdict.c_str());
    }
    if (auto it = notes_.find(section); it != notes_.end()) {
      std::printf("\n");
      for (const auto& line : it->second) std::printf("- %s\n", line.c_str());
    }
  }
  std::printf("\nGoals: %d met, %d not met, %d not judged, %d skipped (anchor not installed), "
              "%d reported only.\n", met, failed, unjudged, skipped, reported);
  return o.strict && failed > 0 ? 1 : 0;
}

}  // namespace goals
