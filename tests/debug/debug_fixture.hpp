// SPDX-License-Identifier: Apache-2.0
// Shared by the debug tests: switch a tool on for one test, capture what it reports,
// and put everything back as it was (CI also runs the suite with WEFT_DEBUG set).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "weft/debug.hpp"
#include "weft/detail/hooks.hpp"

namespace weft::testing {

class DebugTest : public ::testing::Test {
 protected:
  void SetUp() override {
    before_ = debug::current_options();
    mode_ = debug::lock_order_mode();
    old_handler_ = debug::set_report_handler([this](std::string_view kind, std::string_view text) {
      std::lock_guard<std::mutex> g(mu_);
      reports_.push_back({std::string(kind), std::string(text)});
    });
  }
  void TearDown() override {
    debug::set_report_handler(std::move(old_handler_));
    const bool was_on = before_.lock_order || before_.deadlock || before_.stats ||
                        !before_.trace_path.empty();
    debug::disable();  // exactly the tools that were on before, no more
    if (was_on) debug::enable(before_);
    debug::set_lock_order_mode(mode_);
  }

  // Switches lock-order checking on in `mode` for this test.
  void lock_order(debug::Mode mode = debug::Mode::report) {
    debug::Options o;
    o.lock_order = true;
    o.lock_order_mode = mode;
    debug::enable(o);
    debug::set_lock_order_mode(mode);
  }

  std::vector<std::string> reports(std::string_view kind) {
    std::lock_guard<std::mutex> g(mu_);
    std::vector<std::string> out;
    for (const auto& r : reports_)
      if (r.first == kind) out.push_back(r.second);
    return out;
  }

  // Runs fn on a new thread that the tools know as `name`, and joins it.
  template <class F>
  static void on_thread(const char* name, F fn) {
    std::thread t([&] {
      detail::hooks::thread_started(name);
      fn();
      detail::hooks::thread_finished();
    });
    t.join();
  }

 private:
  debug::Options before_;
  debug::Mode mode_ = debug::Mode::report;
  debug::ReportHandler old_handler_;
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> reports_;
};

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A file name for this test program's trace: TempDir()/<stem><pid>.json.
inline std::string temp_path(const char* stem) {
  return ::testing::TempDir() + stem + std::to_string(::getpid()) + ".json";
}

// Starts tracing to `path` from an empty trace and zero counts, whatever WEFT_* said.
inline void enable_trace(const std::string& path, std::size_t events_per_thread = 16384) {
  debug::Options o;
  o.trace_path = path;
  o.trace_events_per_thread = events_per_thread;
  debug::disable();
  debug::enable(o);
}

// "debug/lock_order_test.cpp:42", as reports print a site.
inline std::string site(const char* file, unsigned line) {
  return std::string("debug/") + file + ":" + std::to_string(line);
}

}  // namespace weft::testing
