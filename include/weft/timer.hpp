// SPDX-License-Identifier: Apache-2.0
// weft/timer.hpp: Timer, a thread that calls a function after an interval.
//
// Part of <weft/threading.hpp>. Design: docs/design.md (L2 primitives).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

#include "weft/thread.hpp"

namespace weft {
namespace detail {

// Shared by a Timer and its thread: 0 waiting, 1 cancelled, 2 fired.
struct TimerState {
  std::atomic<std::uint32_t> word{0};
};

// Parks until `deadline` or cancel_timer(). Returns true if the timer fired (cancel()
// can no longer stop it), false if it was cancelled.
bool timer_wait(TimerState& st, Deadline deadline, const void* timer);
void cancel_timer(TimerState& st) noexcept;

}  // namespace detail

/// Timer: runs fn(args...) on its own thread after `interval`.   (Python: threading.Timer)
///
/// State: a Thread (start() it as usual) whose run() waits for the interval, then calls
/// fn unless cancel() came first.
///
/// Guarantees
///   If cancel() returns before the interval has ended, fn never runs. Once the
///   interval has ended the first of cancel() and the timer thread wins: fn runs at
///   most once, and never after a cancel() that won.
///   Memory: as Thread. Everything before start() is visible to fn.
/// Fairness: n/a.
/// Blocking: the timer thread parks for the interval (a real timed wait, no polling);
///   cancel() wakes it at once and never blocks. Zero or negative interval: fn runs
///   as soon as the thread starts.
/// Cost:     one thread, a few allocations.
/// Lifetime: as Thread: destroying a running non-daemon Timer joins it (cancel() first
///   if fn should not run).
/// Invalid:  as Thread; a NaN interval throws ValueError (an infinite or huge one never
///   fires). cancel() may be called at any time, also before start().
///
///   weft::Timer t(2s, [] { std::puts("hello, world"); });
///   t.start();             // prints after two seconds unless t.cancel() comes first
class Timer : public Thread {
 public:
  template <class Rep, class Period, class F, class... Args>
    requires detail::ThreadTarget<F, Args...>
  Timer(std::chrono::duration<Rep, Period> interval, F&& fn, Args&&... args)
      : Timer(std::make_shared<detail::TimerState>(), detail::to_clock_duration(interval),
              detail::make_thread_task(std::forward<F>(fn), std::forward<Args>(args)...)) {}

  /// Stops the timer if it is still waiting: fn will not run. Never blocks.
  void cancel() noexcept { detail::cancel_timer(*timer_); }

 private:
  Timer(std::shared_ptr<detail::TimerState> st, detail::Clock::duration interval,
        std::unique_ptr<detail::ThreadTask> task)
      : Thread([st, interval, task = std::move(task),
                self = static_cast<const void*>(this)](std::stop_token token) mutable {
          if (detail::timer_wait(*st, detail::deadline_after(interval), self))
            task->invoke(std::move(token));
        }),
        timer_(std::move(st)) {
    set_run_not_overridden(typeid(Timer));
  }

  std::shared_ptr<detail::TimerState> timer_;
};

}  // namespace weft
