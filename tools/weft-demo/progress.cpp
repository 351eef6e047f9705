// SPDX-License-Identifier: Apache-2.0
// tools/weft-demo/progress.cpp: a lesson's progress, and the ticker that shows it on stderr.
#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "tour.hpp"

namespace tour {

void Lesson::progress(double fraction, std::string label) {
  std::scoped_lock hold(mu_);
  fraction_ = std::clamp(fraction, 0.0, 1.0);
  label_ = std::move(label);
}

void Lesson::expect_seconds(double full_run_seconds) {
  std::scoped_lock hold(mu_);
  expected_ = quick() ? full_run_seconds / 20 : full_run_seconds;
}

double Lesson::progress_fraction(double elapsed, std::string* label) const {
  std::scoped_lock hold(mu_);
  *label = label_;
  if (fraction_ >= 0) return fraction_;
  if (expected_ > 0) return std::min(0.99, elapsed / expected_);
  return -1;
}

Ticker::Ticker(const Lesson& lesson) : lesson_(lesson), tty_(isatty(2) != 0) {
  thread_ = std::thread([this] { loop(); });
}

Ticker::~Ticker() {
  {
    std::scoped_lock hold(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  if (drawn_ && tty_) std::fprintf(stderr, "\r\033[K");
}

void Ticker::loop() {
  const auto start = std::chrono::steady_clock::now();
  double last_line = 0;
  std::unique_lock hold(mu_);
  while (!cv_.wait_for(hold, std::chrono::milliseconds(100), [this] { return stop_; })) {
    const double t = seconds_since(start);
    if (t < 0.5) continue;
    std::string label;
    const double f = lesson_.progress_fraction(t, &label);
    std::string line;
    if (f >= 0) {
      const int filled = static_cast<int>(f * 30);
      line = "  [" + std::string(static_cast<std::size_t>(filled), '#') +
             std::string(static_cast<std::size_t>(30 - filled), '.') + "] " +
             fmt("%3.0f%%  %.1f s  ", f * 100, t) + label;
    } else {
      line = fmt("  [running %.1f s] ", t) + label;
    }
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      drawn_ = true;
    } else if (t - last_line >= 1.0) {
      std::fprintf(stderr, "%s\n", line.c_str());
      last_line = t;
    }
    std::fflush(stderr);
  }
}

}  // namespace tour
