// SPDX-License-Identifier: Apache-2.0
// Executors side by side: weft's ThreadPoolExecutor and ProcessPoolExecutor against a
// textbook std::thread + std::mutex + std::condition_variable pool returning
// std::future, oneTBB's task_group (no futures), and plain std::threads.
// CPython's ThreadPoolExecutor and multiprocessing.Pool run the same work in
// bench/executor_bench.py. Results: bench/RESULTS.md ("Executors").
//
//   weft_executor_bench --benchmark_counters_tabular=true
//
// Workloads
//   EmptyTasks/1M     submit 1,000,000 empty tasks, then wait for every one (each
//                     through its own future where the pool has futures).
//   MicroTasks/100k   100,000 tasks of ~1 us of arithmetic; "ideal" is the same work
//                     on one thread divided by the number of cores.
//   GilSum            the guide's gil_demo.py CPU-bound sum, split in 4 chunks, on 4
//                     processes (pool start and stop included) vs 4 std::threads.
//   ProcessRoundTrip  one small task to a warm one-process pool and back.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "weft/futures.hpp"
#include "workloads.hpp"
#include "weft/process.hpp"

#if defined(WEFT_HAVE_TBB)
#include <oneapi/tbb/task_group.h>
#endif

namespace {

constexpr int kEmptyTasks = 1'000'000;
constexpr int kMicroTasks = 100'000;

unsigned cores() { return std::max(1u, std::thread::hardware_concurrency()); }

// The textbook pool: one std::queue of std::function under a std::mutex, workers
// sleeping on a std::condition_variable, std::packaged_task for the futures.
class TextbookPool {
 public:
  explicit TextbookPool(unsigned n) {
    for (unsigned i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
  }
  ~TextbookPool() {
    {
      std::scoped_lock hold(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  template <class F>
  auto submit(F f) -> std::future<decltype(f())> {
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
    auto fut = task->get_future();
    {
      std::scoped_lock hold(mu_);
      q_.emplace([task] { (*task)(); });
    }
    cv_.notify_one();
    return fut;
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock hold(mu_);
        cv_.wait(hold, [&] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;
        job = std::move(q_.front());
        q_.pop();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::queue<std::function<void()>> q_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

using bench::cpu_bound_task;
using bench::micro_work;

// Starts the pool's workers outside the timing (they start lazily, one per submit that
// finds no idle worker): a burst of tiny tasks, awaited.
void start_workers(weft::ThreadPoolExecutor& pool) {
  std::vector<weft::Future<void>> fs;
  for (int i = 0; i < 256; ++i) fs.push_back(pool.submit([] {}));
  for (auto& f : fs) f.result();
}

// ---- 1M empty tasks ----

void EmptyTasks_Weft(benchmark::State& state) {
  weft::ThreadPoolExecutor pool(static_cast<std::size_t>(state.range(0)));
  start_workers(pool);
  for (auto _ : state) {
    std::vector<weft::Future<void>> fs;
    fs.reserve(kEmptyTasks);
    for (int i = 0; i < kEmptyTasks; ++i) fs.push_back(pool.submit([] {}));
    for (auto& f : fs) f.result();
  }
  state.SetItemsProcessed(state.iterations() * kEmptyTasks);
}
BENCHMARK(EmptyTasks_Weft)->Arg(0)->Arg(2)->ArgName("workers(0=default)")->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime()->MeasureProcessCPUTime();

void EmptyTasks_Textbook(benchmark::State& state) {
  TextbookPool pool(cores());
  for (auto _ : state) {
    std::vector<std::future<void>> fs;
    fs.reserve(kEmptyTasks);
    for (int i = 0; i < kEmptyTasks; ++i) fs.push_back(pool.submit([] {}));
    for (auto& f : fs) f.get();
  }
  state.SetItemsProcessed(state.iterations() * kEmptyTasks);
}
BENCHMARK(EmptyTasks_Textbook)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime()->MeasureProcessCPUTime();

void EmptyTasks_TbbTaskGroup(benchmark::State& state) {
#if defined(WEFT_HAVE_TBB)
  for (auto _ : state) {
    tbb::task_group g;
    for (int i = 0; i < kEmptyTasks; ++i) g.run([] {});
    g.wait();
  }
  state.SetItemsProcessed(state.iterations() * kEmptyTasks);
#else
  state.SkipWithError("oneTBB not found (install libtbb-dev)");
#endif
}
BENCHMARK(EmptyTasks_TbbTaskGroup)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime()->MeasureProcessCPUTime();

// ---- 100k tasks of ~1 us ----

void MicroTasks_SingleThread(benchmark::State& state) {
  for (auto _ : state) {
    std::uint64_t acc = 0;
    for (int i = 0; i < kMicroTasks; ++i) acc += micro_work(static_cast<std::uint64_t>(i));
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations() * kMicroTasks);
  state.counters["cores"] = cores();
}
BENCHMARK(MicroTasks_SingleThread)->Unit(benchmark::kMillisecond)->Iterations(5)->UseRealTime()->MeasureProcessCPUTime();

// kFreeTimed: freeing the 100k futures after the last result is inside the timing (the
// single-thread reference has nothing to free); otherwise the timing ends with the last
// result, and the futures are freed with the clock paused.
template <bool kFreeTimed>
void MicroTasks_Weft(benchmark::State& state) {
  weft::ThreadPoolExecutor pool(static_cast<std::size_t>(state.range(0)));
  start_workers(pool);
  for (auto _ : state) {
    std::vector<weft::Future<std::uint64_t>> fs;
    fs.reserve(kMicroTasks);
    for (int i = 0; i < kMicroTasks; ++i)
      fs.push_back(pool.submit(micro_work, static_cast<std::uint64_t>(i)));
    std::uint64_t acc = 0;
    for (auto& f : fs) acc += f.result();
    benchmark::DoNotOptimize(acc);
    if constexpr (!kFreeTimed) {
      state.PauseTiming();
      fs = {};
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * kMicroTasks);
}
BENCHMARK_TEMPLATE(MicroTasks_Weft, true)->Name("MicroTasks_Weft")->Arg(0)->Arg(2)->ArgName("workers(0=default)")->Unit(benchmark::kMillisecond)->Iterations(5)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK_TEMPLATE(MicroTasks_Weft, false)->Name("MicroTasks_Weft_UntilLastResult")->Arg(0)->Arg(2)->ArgName("workers(0=default)")->Unit(benchmark::kMillisecond)->Iterations(5)->UseRealTime()->MeasureProcessCPUTime();

void MicroTasks_Textbook(benchmark::State& state) {
  TextbookPool pool(cores());
  for (auto _ : state) {
    std::vector<std::future<std::uint64_t>> fs;
    fs.reserve(kMicroTasks);
    for (int i = 0; i < kMicroTasks; ++i)
      fs.push_back(pool.submit([i] { return micro_work(static_cast<std::uint64_t>(i)); }));
    std::uint64_t acc = 0;
    for (auto& f : fs) acc += f.get();
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations() * kMicroTasks);
}
BENCHMARK(MicroTasks_Textbook)->Unit(benchmark::kMillisecond)->Iterations(5)->UseRealTime()->MeasureProcessCPUTime();

// ---- the guide's CPU-bound sum on 4 workers ----

void GilSum_Threads4(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    std::vector<std::uint64_t> out(4);
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) ts.emplace_back([&out, t, n] { out[static_cast<std::size_t>(t)] = cpu_bound_task(n / 4); });
    for (auto& t : ts) t.join();
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(GilSum_Threads4)->Arg(10'000'000)->Arg(400'000'000)->ArgName("n")->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void GilSum_Processes4(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    weft::ProcessPoolExecutor pool(4);  // start and stop are part of the cost
    std::vector<weft::Future<std::uint64_t>> fs;
    for (int t = 0; t < 4; ++t) fs.push_back(pool.submit(cpu_bound_task, n / 4));
    std::uint64_t s = 0;
    for (auto& f : fs) s += f.result();
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(GilSum_Processes4)->Arg(10'000'000)->Arg(400'000'000)->ArgName("n")->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void GilSum_Single(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(cpu_bound_task(n));
}
BENCHMARK(GilSum_Single)->Arg(10'000'000)->Arg(400'000'000)->ArgName("n")->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// ---- one small task to a process and back ----

int small_task(int x) { return x + 1; }

void ProcessRoundTrip(benchmark::State& state) {
  weft::ProcessPoolExecutor pool(1);
  pool.submit(small_task, 0).result();  // the worker is up
  int x = 0;
  for (auto _ : state) x = pool.submit(small_task, x).result();
  benchmark::DoNotOptimize(x);
}
BENCHMARK(ProcessRoundTrip)->Unit(benchmark::kMicrosecond)->UseRealTime();

void ProcessPoolStartStop(benchmark::State& state) {
  for (auto _ : state) {
    weft::ProcessPoolExecutor pool(1);
    pool.submit(small_task, 0).result();
  }
}
BENCHMARK(ProcessPoolStartStop)->Unit(benchmark::kMillisecond)->Iterations(20)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
