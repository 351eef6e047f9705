// SPDX-License-Identifier: Apache-2.0
// tools/weft-demo/progress.hpp: the ticker that shows a running lesson's progress (private
// to weft-demo).
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace tour {

class Lesson;

// Shows progress on stderr while a lesson runs (from 0.5 s on): a bar redrawn in place on
// a terminal, a line every second otherwise. The destructor stops the ticker and clears
// its bar.
class Ticker {
 public:
  explicit Ticker(const Lesson& lesson);
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;
  ~Ticker();

 private:
  void loop();

  const Lesson& lesson_;
  const bool tty_;
  bool drawn_ = false, stop_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace tour
