// SPDX-License-Identifier: Apache-2.0
// tools/weft-demo/measure.cpp: timing claims: the test hooks, the CPU meter that tells a quiet
// machine from a busy one, measuring a lesson's numbers and judging its claims.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "tour.hpp"

namespace tour {

bool test_hook(std::string_view name) {
  const char* hooks = std::getenv("WEFT_DEMO_TEST");
  if (hooks == nullptr) return false;
  std::string_view rest = hooks;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    if (rest.substr(0, comma) == name) return true;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return false;
}

namespace {

// Seconds of CPU time the kernel counts as busy on all CPUs (/proc/stat's first line:
// user, nice, system, irq, softirq and steal, which includes guests), or -1 if unknown.
double machine_busy_seconds() {
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
                     softirq = 0, steal = 0;
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return -1;
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
                            &system, &idle, &iowait, &irq, &softirq, &steal);
  std::fclose(f);
  const long ticks = sysconf(_SC_CLK_TCK);
  if (n < 4 || ticks <= 0) return -1;
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         static_cast<double>(ticks);
}

// CPU seconds of this process's threads and of its children it has waited for.
double own_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  rusage children{};
  getrusage(RUSAGE_CHILDREN, &children);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
  };
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9 +
         secs(children.ru_utime) + secs(children.ru_stime);
}

// The test hook "gate" (see tour.hpp): once per run, before the first measurement.
void pass_test_gate() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::fprintf(stderr, "weft-demo test gate: a measurement starts; waiting for a line on stdin\n");
    std::fflush(stderr);
    char line[64];
    if (std::fgets(line, sizeof line, stdin) == nullptr) std::clearerr(stdin);  // EOF: go on
  });
}

}  // namespace

bool claims_judged(const Settings& settings) {
  return !settings.quick || test_hook("judge-quick");
}

CpuMeter::CpuMeter()
    : busy_(machine_busy_seconds()), own_(own_cpu_seconds()),
      start_(std::chrono::steady_clock::now()) {}

double CpuMeter::seconds() const { return seconds_since(start_); }

double CpuMeter::others_percent() const {
  const double busy = machine_busy_seconds(), own = own_cpu_seconds(), wall = seconds();
  if (busy_ < 0 || busy < 0 || wall <= 0) return -1;
  return std::max(0.0, (busy - busy_) - (own - own_)) / wall * 100;
}

Quietness Lesson::measure(const std::function<void()>& measurement) {
  constexpr double kMinWindow = 0.25;  // seconds
  constexpr int kMostRuns = 4;         // the first and up to three more
  const bool watched = claims_judged(settings_);
  if (test_hook("gate")) pass_test_gate();
  std::size_t printed = 0;
  {
    std::scoped_lock hold(mu_);
    printed = out_.size();
  }
  Quietness q;
  for (;;) {
    {
      std::scoped_lock hold(mu_);  // take back what a busy run printed
      out_.erase(out_.begin() + static_cast<std::ptrdiff_t>(printed), out_.end());
    }
    const CpuMeter meter;
    measurement();
    ++q.runs;
    if (!watched) return q;
    const double rest = kMinWindow - meter.seconds();
    if (rest > 0) std::this_thread::sleep_for(std::chrono::duration<double>(rest));
    q.others_percent = meter.others_percent();
    if (!q.busy() || q.runs == kMostRuns) return q;
  }
}

bool Lesson::claim(std::string promise, bool held, std::string measured, const Quietness& during) {
  Check c;
  c.promise = std::move(promise);
  c.measured = std::move(measured);
  c.held = held;
  c.timing = true;
  c.during = during;
  c.judged = claims_judged(settings_) && !during.busy();
  static std::atomic<bool> failed_one{false};
  if (test_hook("fail-claim") && !failed_one.exchange(true)) {
    c.held = false;
    c.judged = true;
    c.during.others_percent = 0;
    c.measured += "; test hook fail-claim: its threshold made impossible";
  }
  const bool counted_held = c.held;
  std::scoped_lock hold(mu_);
  checks_.push_back(std::move(c));
  return counted_held;
}

}  // namespace tour
