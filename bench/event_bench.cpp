// SPDX-License-Identifier: Apache-2.0
// Ping-pong round trip between two threads: one thread signals, the other answers,
// the first waits for the answer. Time per iteration is one round trip.
//
// weft::Event and weft::Condition against std::condition_variable, absl::Notification
// and C++20 std::atomic::wait, plus a plain atomic spin ping-pong: the cache-line
// floor, which every blocking mechanism is reported as a multiple of (bench/run.sh).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "spin.hpp"
#include "weft/condition.hpp"
#include "weft/event.hpp"
#include "weft/lock.hpp"

#if WEFT_HAVE_ABSL
#include <absl/synchronization/notification.h>
#endif

namespace {

// Each channel has round_trip() (the measured side), serve() (the partner's loop,
// returns after stop()) and stop().

struct EventChannel {
  weft::Event ping, pong;
  std::atomic<bool> stopping{false};
  void round_trip() {
    ping.set();
    pong.wait();
    pong.clear();
  }
  void serve() {
    for (;;) {
      ping.wait();
      ping.clear();
      if (stopping.load(std::memory_order_relaxed)) return;
      pong.set();
    }
  }
  void stop() {
    stopping = true;
    ping.set();
  }
};

struct ConditionChannel {
  weft::Lock lock;
  weft::Condition cond{lock};
  int turn = 0;  // 1: partner's turn, 0: ours; guarded by lock
  bool stopping = false;
  void round_trip() {
    std::scoped_lock hold(lock);
    turn = 1;
    cond.notify();
    while (turn != 0) cond.wait();
  }
  void serve() {
    std::scoped_lock hold(lock);
    for (;;) {
      while (turn != 1 && !stopping) cond.wait();
      if (stopping) return;
      turn = 0;
      cond.notify();
    }
  }
  void stop() {
    std::scoped_lock hold(lock);
    stopping = true;
    cond.notify();
  }
};

struct StdCondvarChannel {
  std::mutex lock;
  std::condition_variable cond;
  int turn = 0;
  bool stopping = false;
  void round_trip() {
    std::unique_lock hold(lock);
    turn = 1;
    cond.notify_one();
    cond.wait(hold, [&] { return turn == 0; });
  }
  void serve() {
    std::unique_lock hold(lock);
    for (;;) {
      cond.wait(hold, [&] { return turn == 1 || stopping; });
      if (stopping) return;
      turn = 0;
      cond.notify_one();
    }
  }
  void stop() {
    std::scoped_lock hold(lock);
    stopping = true;
    cond.notify_one();
  }
};

// Odd sequence numbers are pings, even ones pongs.
struct AtomicWaitChannel {
  std::atomic<std::uint32_t> seq{0};
  std::atomic<bool> stopping{false};
  void round_trip() {
    const std::uint32_t ping = seq.load(std::memory_order_relaxed) + 1;
    seq.store(ping, std::memory_order_release);
    seq.notify_one();
    seq.wait(ping, std::memory_order_acquire);
  }
  void serve() {
    std::uint32_t seen = 0;
    for (;;) {
      seq.wait(seen, std::memory_order_acquire);
      seen = seq.load(std::memory_order_acquire);
      if (stopping.load(std::memory_order_relaxed)) return;
      seen += 1;
      seq.store(seen, std::memory_order_release);
      seq.notify_one();
    }
  }
  void stop() {
    stopping = true;
    seq.fetch_add(1, std::memory_order_release);
    seq.notify_one();
  }
};

// The floor: both threads spin on one cache line and never sleep (bench::spin_poll).
using bench::spin_poll;

struct SpinChannel {
  alignas(64) std::atomic<std::uint32_t> seq{0};
  std::atomic<bool> stopping{false};
  void round_trip() {
    const std::uint32_t ping = seq.load(std::memory_order_relaxed) + 1;
    seq.store(ping, std::memory_order_release);
    std::uint32_t polls = 0;
    while (seq.load(std::memory_order_acquire) == ping) spin_poll(polls);
  }
  void serve() {
    std::uint32_t seen = 0;
    for (;;) {
      std::uint32_t now, polls = 0;
      while ((now = seq.load(std::memory_order_acquire)) == seen) spin_poll(polls);
      if (stopping.load(std::memory_order_relaxed)) return;
      seen = now + 1;
      seq.store(seen, std::memory_order_release);
    }
  }
  void stop() {
    stopping = true;
    seq.fetch_add(1, std::memory_order_release);
  }
};

#if WEFT_HAVE_ABSL
// absl::Notification is single-use: one fresh pair per round, allocated before timing.
struct AbslNotificationChannel {
  std::unique_ptr<absl::Notification[]> ping, pong;
  std::atomic<bool> stopping{false};
  std::size_t n = 0, i = 0;
  explicit AbslNotificationChannel(std::size_t rounds)
      : ping(new absl::Notification[rounds + 1]), pong(new absl::Notification[rounds + 1]),
        n(rounds + 1) {}
  void round_trip() {
    ping[i].Notify();
    pong[i].WaitForNotification();
    ++i;
  }
  void serve() {
    for (std::size_t k = 0; k < n; ++k) {
      ping[k].WaitForNotification();
      if (stopping.load(std::memory_order_relaxed)) return;
      pong[k].Notify();
    }
  }
  void stop() {
    stopping = true;
    ping[i].Notify();
  }
};
#endif

// Besides the mean, records "best_ns": the fastest single round trip of the run (it
// includes one steady_clock read, about 20 ns). On a shared machine the mean includes
// the time a thread waited for a core; the best round trip shows the mechanism when
// both threads were running.
template <class Channel, class... A>
void run_ping_pong(benchmark::State& state, A... args) {
  using Clock = std::chrono::steady_clock;
  Channel ch(args...);
  std::thread partner([&] { ch.serve(); });
  double best = 0;
  Clock::time_point last = Clock::now();
  for (auto _ : state) {
    ch.round_trip();
    const Clock::time_point now = Clock::now();
    const double ns = std::chrono::duration<double, std::nano>(now - last).count();
    if (best == 0 || ns < best) best = ns;
    last = now;
  }
  ch.stop();
  partner.join();
  state.SetItemsProcessed(state.iterations());
  if (best > 0) state.counters["best_ns"] = best;
}

void BM_Event(benchmark::State& s) { run_ping_pong<EventChannel>(s); }
void BM_Condition(benchmark::State& s) { run_ping_pong<ConditionChannel>(s); }
void BM_StdCondvar(benchmark::State& s) { run_ping_pong<StdCondvarChannel>(s); }
void BM_AtomicWait(benchmark::State& s) { run_ping_pong<AtomicWaitChannel>(s); }
void BM_Spin(benchmark::State& s) { run_ping_pong<SpinChannel>(s); }
#if WEFT_HAVE_ABSL
void BM_AbslNotification(benchmark::State& s) {
  run_ping_pong<AbslNotificationChannel>(s, static_cast<std::size_t>(s.max_iterations));
}
#endif

}  // namespace

BENCHMARK(BM_Event)->Name("pingpong/weft::Event")->UseRealTime();
BENCHMARK(BM_Condition)->Name("pingpong/weft::Condition")->UseRealTime();
BENCHMARK(BM_StdCondvar)->Name("pingpong/std::condition_variable")->UseRealTime();
BENCHMARK(BM_AtomicWait)->Name("pingpong/std::atomic::wait")->UseRealTime();
#if WEFT_HAVE_ABSL
BENCHMARK(BM_AbslNotification)->Name("pingpong/absl::Notification")->UseRealTime();
#endif
BENCHMARK(BM_Spin)->Name("pingpong/atomic spin (floor)")->UseRealTime();

int main(int argc, char** argv) {
#if !WEFT_HAVE_ABSL
  std::fprintf(stderr, "event_bench: Abseil not found, absl::Notification skipped\n");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
