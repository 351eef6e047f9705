// SPDX-License-Identifier: Apache-2.0
// tools/weft-demo/lesson.cpp: a lesson's bookkeeping: its printed lines, its promises, the
// guide's durations.
#include <algorithm>
#include <thread>

#include "tour.hpp"

namespace tour {

std::chrono::nanoseconds Lesson::guide_time(double seconds) const {
  const double scaled = quick() ? seconds / 20 : seconds;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(scaled * 1e9));
}

void Lesson::sleep(double seconds) const { std::this_thread::sleep_for(guide_time(seconds)); }

void Lesson::print(std::string line) {
  std::scoped_lock hold(mu_);
  out_.push_back(std::move(line));
}

std::vector<std::string> Lesson::lines() const {
  std::scoped_lock hold(mu_);
  return out_;
}

std::size_t Lesson::find(std::string_view line) const {
  std::scoped_lock hold(mu_);
  auto it = std::find(out_.begin(), out_.end(), line);
  return it == out_.end() ? std::string::npos : static_cast<std::size_t>(it - out_.begin());
}

bool Lesson::printed_in_order(std::initializer_list<std::string_view> wanted) const {
  std::scoped_lock hold(mu_);
  auto it = out_.begin();
  for (auto w : wanted) {
    it = std::find(it, out_.end(), w);
    if (it == out_.end()) return false;
    ++it;
  }
  return true;
}

bool Lesson::check(std::string promise, bool held, std::string measured) {
  std::scoped_lock hold(mu_);
  Check c;
  c.promise = std::move(promise);
  c.measured = std::move(measured);
  c.held = held;
  checks_.push_back(std::move(c));
  return held;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace tour
