// SPDX-License-Identifier: Apache-2.0
// What cancellation (issue 13) costs, and how fast it stops a blocked thread.
//
// fast/ cases (built in every version of weft, so that a build from before the
// cancellation work runs them too; bench/cancel_compare.py compares two builds):
//   fast/lock             an uncontended Lock acquire + release, one thread;
//   fast/handoff_1p1c     a 1P1C hand-off through a bounded Queue<int>(1024): the benchmark's
//                         thread puts, a consumer thread gets; time per item, CPU time of the
//                         whole process (both threads).
// latency/ cases (builds with <weft/cancel.hpp>): one trial per iteration, each on a new
// weft::Thread that blocks, is seen asleep in the kernel (/proc/self/task/TID/stat says
// S: it is parked, not spinning), then is woken; the iteration's time is from the wake-up
// call in the benchmark's thread to the moment the woken thread runs again (steady clock):
//   latency/event_set          Event::set() -> Event::wait() returns (the one-way wake-up);
//   latency/event_set_timed    the same into Event::wait(1 h) (a timed park, as weft::sleep's);
//   latency/stop_sleep         Thread::request_stop() -> CancelledError out of weft::sleep;
//   latency/stop_event_wait    Thread::request_stop() -> CancelledError out of Event::wait.
//   latency/throw_new_thread   no wake-up: a new thread throws and catches a CancelledError
//                              (what the exception alone costs a thread that never threw).
// Counters: median_us, p99_us, worst_us over the trials (the time column is their mean).
// A build whose Event::wait ignores request_stop reports an error for that case (the
// waiter is released after 5 s) instead of hanging.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "fast_paths.hpp"
#include "weft/event.hpp"
#include "weft/lock.hpp"
#include "weft/thread.hpp"

#if __has_include("weft/cancel.hpp")
#include "weft/cancel.hpp"
#define WEFT_BENCH_HAVE_CANCEL 1
#endif

namespace {

BENCHMARK(bench::lock_uncontended<weft::Lock>)->Name("fast/lock");
BENCHMARK(bench::handoff_1p1c)->Name("fast/handoff_1p1c")->MeasureProcessCPUTime()->UseRealTime();

#ifdef WEFT_BENCH_HAVE_CANCEL

using Clock = std::chrono::steady_clock;

// True once the thread `tid` of this process sleeps in the kernel (state S).
bool asleep(long tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = all.rfind(')');
  return paren != std::string::npos && paren + 2 < all.size() && all[paren + 2] == 'S';
}

enum class Wake { kEventSet, kEventSetTimed, kStopSleep, kStopEventWait };

// One trial: returns the latency in seconds, or a negative value if the waiter did not
// wake within 5 s of the wake-up call (it is then released by Event::set).
double trial(Wake wake) {
  weft::Event event;
  std::atomic<Clock::rep> woke{0};
  weft::Thread waiter([&] {
    try {
      if (wake == Wake::kStopSleep)
        weft::sleep(std::chrono::hours(1));
      else if (wake == Wake::kEventSetTimed)
        event.wait(std::chrono::hours(1));
      else
        event.wait();
    } catch (const weft::CancelledError&) {
    }
    woke.store(Clock::now().time_since_epoch().count(), std::memory_order_release);
  });
  waiter.start();
  const long tid = static_cast<long>(waiter.native_id().value());
  while (!asleep(tid)) std::this_thread::yield();
  const auto start = Clock::now();
  if (wake == Wake::kEventSet || wake == Wake::kEventSetTimed)
    event.set();
  else
    waiter.request_stop();
  while (woke.load(std::memory_order_acquire) == 0) {
    if (Clock::now() - start > std::chrono::seconds(5)) {
      event.set();
      waiter.join();
      return -1;
    }
    std::this_thread::yield();
  }
  waiter.join();
  return std::chrono::duration<double>(Clock::duration(woke.load()) - start.time_since_epoch())
      .count();
}

// One trial of throw_new_thread: seconds from just before the throw to the catch.
double throw_trial() {
  double seconds = 0;
  std::thread thrower([&] {
    const auto start = Clock::now();
    try {
      throw weft::CancelledError("stop requested");
    } catch (const weft::CancelledError&) {
      seconds = std::chrono::duration<double>(Clock::now() - start).count();
    }
  });
  thrower.join();
  return seconds;
}

void set_counters(benchmark::State& state, std::vector<double>& us) {
  std::sort(us.begin(), us.end());
  state.counters["median_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[us.size() * 99 / 100];
  state.counters["worst_us"] = us.back();
}

void BM_Latency(benchmark::State& state, Wake wake) {
  std::vector<double> us;
  for (auto _ : state) {
    const double s = trial(wake);
    if (s < 0) {
      state.SkipWithError("the waiter ignored the wake-up for 5 s (not interruptible here)");
      return;
    }
    state.SetIterationTime(s);
    us.push_back(s * 1e6);
  }
  set_counters(state, us);
}

void BM_ThrowNewThread(benchmark::State& state) {
  std::vector<double> us;
  for (auto _ : state) {
    const double s = throw_trial();
    state.SetIterationTime(s);
    us.push_back(s * 1e6);
  }
  set_counters(state, us);
}
BENCHMARK_CAPTURE(BM_Latency, event_set, Wake::kEventSet)
    ->Name("latency/event_set")->UseManualTime()->Iterations(1000);
BENCHMARK_CAPTURE(BM_Latency, event_set_timed, Wake::kEventSetTimed)
    ->Name("latency/event_set_timed")->UseManualTime()->Iterations(1000);
BENCHMARK(BM_ThrowNewThread)->Name("latency/throw_new_thread")->UseManualTime()->Iterations(1000);
BENCHMARK_CAPTURE(BM_Latency, stop_sleep, Wake::kStopSleep)
    ->Name("latency/stop_sleep")->UseManualTime()->Iterations(1000);
BENCHMARK_CAPTURE(BM_Latency, stop_event_wait, Wake::kStopEventWait)
    ->Name("latency/stop_event_wait")->UseManualTime()->Iterations(1000);

#endif

}  // namespace

BENCHMARK_MAIN();
