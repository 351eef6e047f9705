// SPDX-License-Identifier: Apache-2.0
// What virtual time (<weft/testing.hpp>, issue 14) costs on the fast paths.
//
// Outside a bubble nothing of a fast path may be measurably slower than before virtual
// time existed (budget 2%); inside a bubble (weft::testing::run) an uncontended Lock must
// stay within 2x of outside. One thread, nothing contended, nothing parks:
//   lock       Lock acquire + release
//   event      Event set + is_set + clear (no waiter)
//   queue      Queue<int> put + get (unbounded, one item in flight)
//   queue_timed  the same with a 1 s timeout on each (the timeout reads weft::clock)
//   condition  Condition notify with no waiter (its lock held)
//   clock      weft::clock::now(), and std::chrono::steady_clock::now() beside it
// Each case runs on the benchmark's thread (outside) and, where <weft/testing.hpp>
// exists, inside testing::run (the loop runs on the bubble's thread). The outside cases
// compile on weft before virtual time too, for a before/after comparison of two builds
// (bench/RESULTS.md, issue 14).
#include <benchmark/benchmark.h>

#include <chrono>

#include "weft/condition.hpp"
#include "weft/event.hpp"
#include "weft/lock.hpp"
#include "weft/queue.hpp"

#if __has_include("weft/testing.hpp")
#include "weft/testing.hpp"
#define WEFT_BENCH_HAVE_BUBBLES 1
#endif

namespace {

using namespace std::chrono_literals;

void lock_loop(benchmark::State& state) {
  weft::Lock lock;
  for (auto _ : state) {
    lock.acquire();
    benchmark::ClobberMemory();
    lock.release();
  }
}

void event_loop(benchmark::State& state) {
  weft::Event event;
  for (auto _ : state) {
    event.set();
    benchmark::DoNotOptimize(event.is_set());
    event.clear();
  }
}

void queue_loop(benchmark::State& state) {
  weft::Queue<int> queue;
  int i = 0;
  for (auto _ : state) {
    queue.put(i++);
    benchmark::DoNotOptimize(queue.get());
  }
}

void queue_timed_loop(benchmark::State& state) {
  weft::Queue<int> queue;
  int i = 0;
  for (auto _ : state) {
    queue.put(i++, 1s);
    benchmark::DoNotOptimize(queue.get(1s));
  }
}

void condition_loop(benchmark::State& state) {
  weft::Lock lock;
  weft::Condition condition(lock);
  lock.acquire();
  for (auto _ : state) {
    condition.notify();
    benchmark::ClobberMemory();
  }
  lock.release();
}

void clock_loop(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(weft::clock::now());
}

void steady_clock_loop(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}

template <void (*Loop)(benchmark::State&)>
void outside(benchmark::State& state) {
  Loop(state);
}

#if defined(WEFT_BENCH_HAVE_BUBBLES)
template <void (*Loop)(benchmark::State&)>
void inside(benchmark::State& state) {
  weft::testing::run([&] { Loop(state); });
}
#endif

#if defined(WEFT_BENCH_HAVE_BUBBLES)
#define WEFT_VTIME_CASE(name, loop)                                    \
  BENCHMARK(outside<loop>)->Name("outside/" name)->UseRealTime(); \
  BENCHMARK(inside<loop>)->Name("inside/" name)->UseRealTime()
#else
#define WEFT_VTIME_CASE(name, loop) BENCHMARK(outside<loop>)->Name("outside/" name)->UseRealTime()
#endif

WEFT_VTIME_CASE("lock", lock_loop);
WEFT_VTIME_CASE("event", event_loop);
WEFT_VTIME_CASE("queue", queue_loop);
WEFT_VTIME_CASE("queue_timed", queue_timed_loop);
WEFT_VTIME_CASE("condition", condition_loop);
WEFT_VTIME_CASE("clock", clock_loop);
BENCHMARK(outside<steady_clock_loop>)->Name("outside/steady_clock")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
