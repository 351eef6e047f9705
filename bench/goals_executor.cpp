// SPDX-License-Identifier: Apache-2.0
// weft_goals, sections "executor" and "process": issue 12's executor and process pool goals.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "goals.hpp"
#include "weft/futures.hpp"
#include "weft/process.hpp"
#include "workloads.hpp"

#if defined(WEFT_HAVE_TBB)
#include <oneapi/tbb/task_group.h>
#endif
#if defined(WEFT_HAVE_ASIO)
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#endif

namespace goals {

namespace {

using Clock = std::chrono::steady_clock;

std::size_t cores() { return std::max(1u, std::thread::hardware_concurrency()); }

// Keeps a result alive so the optimiser cannot drop the work that made it.
std::atomic<std::uint64_t> sink{0};
void keep(std::uint64_t x) { sink.fetch_add(x, std::memory_order_relaxed); }

// Starts the pool's workers outside the timing (they start lazily, one per submit that
// finds no idle worker): a burst of tiny tasks, awaited.
void start_workers(weft::ThreadPoolExecutor& pool) {
  std::vector<weft::Future<void>> fs;
  for (int i = 0; i < 256; ++i) fs.push_back(pool.submit([] {}));
  for (auto& f : fs) f.result();
}

// ---- empty tasks, each with a future ----

double empty_weft(std::size_t workers, int tasks) {
  weft::ThreadPoolExecutor pool(workers);
  start_workers(pool);
  std::vector<weft::Future<void>> fs;
  fs.reserve(static_cast<std::size_t>(tasks));
  const auto start = Clock::now();
  for (int i = 0; i < tasks; ++i) fs.push_back(pool.submit([] {}));
  for (auto& f : fs) f.result();
  return elapsed_ms(start);
}

#if defined(WEFT_HAVE_TBB)
// tbb::task_group keeps no futures: it only counts the tasks it waits for.
double empty_tbb(int tasks) {
  const auto start = Clock::now();
  tbb::task_group g;
  for (int i = 0; i < tasks; ++i) g.run([] {});
  g.wait();
  return elapsed_ms(start);
}
#endif

#if defined(WEFT_HAVE_ASIO)
// asio::thread_pool with its default thread count, a std::future per task (use_future).
double empty_asio(int tasks) {
  asio::thread_pool pool;
  {
    std::vector<std::future<void>> warm;
    for (int i = 0; i < 256; ++i) warm.push_back(asio::post(pool, asio::use_future([] {})));
    for (auto& f : warm) f.get();
  }
  std::vector<std::future<void>> fs;
  fs.reserve(static_cast<std::size_t>(tasks));
  const auto start = Clock::now();
  for (int i = 0; i < tasks; ++i) fs.push_back(asio::post(pool, asio::use_future([] {})));
  for (auto& f : fs) f.get();
  const double ms = elapsed_ms(start);
  pool.join();
  return ms;
}
#endif

// ---- tasks of about 1 us ----

// With --placement, each task records the CPU it ran on and which worker ran it.
struct Placement {
  std::vector<std::uint32_t> cpu, worker;
  std::atomic<std::uint32_t> next_worker{0};
};
thread_local std::uint32_t worker_tag = 0;  // 0: not seen yet

void record(Placement& p, std::size_t i) {
  if (worker_tag == 0) worker_tag = p.next_worker.fetch_add(1) + 1;
  const int cpu = sched_getcpu();
  p.cpu[i] = cpu < 0 ? 0xffff : static_cast<std::uint32_t>(cpu);
  p.worker[i] = worker_tag;
}

// "worker 1: 50,123 tasks, cpu0 98% cpu1 2%; worker 2: ..."
std::string placement_summary(const Placement& p) {
  std::map<std::uint32_t, std::map<std::uint32_t, std::size_t>> by_worker;
  for (std::size_t i = 0; i < p.cpu.size(); ++i) ++by_worker[p.worker[i]][p.cpu[i]];
  std::string out;
  int shown = 0;
  for (const auto& [w, cpus] : by_worker) {
    std::size_t n = 0;
    for (const auto& kv : cpus) n += kv.second;
    ++shown;
    out += (shown > 1 ? "; worker " : "worker ") + std::to_string(shown) + ": " + std::to_string(n) + " tasks,";
    for (const auto& [cpu, k] : cpus)
      out += " cpu" + std::to_string(cpu) + " " + std::to_string(k * 100 / n) + "%";
  }
  return out;
}

double micro_single(int tasks) {
  const auto start = Clock::now();
  std::uint64_t acc = 0;
  for (int i = 0; i < tasks; ++i) acc += bench::micro_work(static_cast<std::uint64_t>(i));
  const double ms = elapsed_ms(start);
  keep(acc);
  return ms;
}

// The CPUs this process may run on, in order (its affinity mask).
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

// The same work as micro_single on a thread pinned to `cpu` (the benchmark pins its own
// reference threads; weft never pins): how fast that CPU ran in this round. Virtual
// CPUs of one machine can differ (another guest on the same core); 0 if pinning fails.
double micro_single_on(int cpu, int tasks) {
  double ms = 0;
  std::thread t([&] {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    // Returns once the thread runs on `cpu` (the kernel moves it before returning).
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) return;
    ms = micro_single(tasks);
  });
  t.join();
  return ms;
}

// The best time for `work` split over the `k` fastest of the CPUs measured this round,
// each doing a share in proportion to its speed: 1 / sum(1 / t_cpu). With equal CPUs it
// is one thread's time / k. 0 when a CPU could not be measured.
double ideal_over(const Round& r, const std::vector<std::string>& per_cpu, std::size_t k) {
  std::vector<double> speeds;
  for (const auto& name : per_cpu) {
    const double t = r.at(name);
    if (t <= 0) return 0;
    speeds.push_back(1.0 / t);
  }
  std::sort(speeds.begin(), speeds.end(), std::greater<>());
  double sum = 0;
  for (std::size_t i = 0; i < std::min(k, speeds.size()); ++i) sum += speeds[i];
  return sum > 0 ? 1.0 / sum : 0;
}

// Timed from the first submit until the last result has been read; the futures are
// freed afterwards, outside the timing (the single-thread reference frees nothing).
double micro_weft(std::size_t workers, int tasks, Registry& reg, const Options& o,
                  const std::string& label) {
  weft::ThreadPoolExecutor pool(workers);
  start_workers(pool);
  Placement where;
  if (o.placement) {
    where.cpu.assign(static_cast<std::size_t>(tasks), 0);
    where.worker.assign(static_cast<std::size_t>(tasks), 0);
  }
  std::vector<weft::Future<std::uint64_t>> fs;
  fs.reserve(static_cast<std::size_t>(tasks));
  const auto start = Clock::now();
  for (int i = 0; i < tasks; ++i) {
    const auto seed = static_cast<std::uint64_t>(i);
    if (o.placement) {
      fs.push_back(pool.submit([&where, seed] {
        record(where, static_cast<std::size_t>(seed));
        return bench::micro_work(seed);
      }));
    } else {
      fs.push_back(pool.submit(bench::micro_work, seed));
    }
  }
  std::uint64_t acc = 0;
  for (auto& f : fs) acc += f.result();
  const double ms = elapsed_ms(start);
  keep(acc);
  if (o.placement) {
    char head[96];
    std::snprintf(head, sizeof head, "placement, %s, %.1f ms: ", label.c_str(), ms);
    reg.note("executor", head + placement_summary(where));
  }
  return ms;
}

// ---- the guide's CPU-bound sum: processes vs threads ----

std::vector<std::uint64_t> chunks(std::uint64_t n, int parts) {
  return std::vector<std::uint64_t>(static_cast<std::size_t>(parts), n / static_cast<std::uint64_t>(parts));
}

// A pool of `workers` processes maps the sum over `workers` chunks; start and stop included.
double sum_processes(int workers, std::uint64_t n) {
  const auto start = Clock::now();
  std::uint64_t total = 0;
  {
    weft::ProcessPoolExecutor pool(workers);
    for (std::uint64_t part : pool.map(bench::cpu_bound_task, chunks(n, workers))) total += part;
  }
  const double ms = elapsed_ms(start);
  keep(total);
  return ms;
}

// The same chunks on as many std::threads, started and joined inside the timing.
double sum_threads(int threads, std::uint64_t n) {
  const auto start = Clock::now();
  std::vector<std::uint64_t> out(static_cast<std::size_t>(threads));
  {
    std::vector<std::thread> ts;
    const auto parts = chunks(n, threads);
    for (std::size_t t = 0; t < parts.size(); ++t)
      ts.emplace_back([&out, &parts, t] { out[t] = bench::cpu_bound_task(parts[t]); });
    for (auto& t : ts) t.join();
  }
  const double ms = elapsed_ms(start);
  std::uint64_t total = 0;
  for (auto x : out) total += x;
  keep(total);
  return ms;
}

std::vector<double> one(double x) { return {x}; }

}  // namespace

void register_executor(Registry& reg, const Options& o) {
  const int empty_tasks = o.quick ? 10'000 : 1'000'000;
  const int micro_tasks = o.quick ? 2'000 : 100'000;
  const std::uint64_t sum_n = o.quick ? 2'000'000 : 200'000'000;
  const std::string empty_label = o.quick ? "10k empty tasks" : "1M empty tasks";
  const std::string micro_label = o.quick ? "2k tasks of ~1 us" : "100k tasks of ~1 us";

  // 1M empty tasks, a future each.
  {
    const std::string g = empty_label + ", a future each";
    std::vector<Registry::Measurement> ms;
    ms.push_back({"weft TPE()", {{"empty: weft TPE()", "ms", Better::lower}},
                  [=] { return one(empty_weft(0, empty_tasks)); }});
    ms.push_back({"weft TPE(2)", {{"empty: weft TPE(2)", "ms", Better::lower}},
                  [=] { return one(empty_weft(2, empty_tasks)); }});
#if defined(WEFT_HAVE_TBB)
    ms.push_back({"tbb::task_group", {{"empty: tbb::task_group (no futures)", "ms", Better::lower}},
                  [=] { return one(empty_tbb(empty_tasks)); }});
#else
    reg.missing(g, "empty: tbb::task_group (no futures)", "libtbb-dev");
#endif
#if defined(WEFT_HAVE_ASIO)
    ms.push_back({"asio::thread_pool", {{"empty: asio::thread_pool + use_future", "ms", Better::lower}},
                  [=] { return one(empty_asio(empty_tasks)); }});
#else
    reg.missing(g, "empty: asio::thread_pool + use_future", "libasio-dev");
#endif
    reg.group("executor", g,
              "Submit every task, then wait for each (weft: its Future; asio: its std::future "
              "from asio::use_future; tbb::task_group keeps no futures and waits once). Each "
              "pool is created and warmed (256 tasks) outside the timing; default sizes: weft "
              "min(32, CPUs + 4) workers, asio 2 x CPUs threads, TBB one per CPU.",
              std::move(ms));
    reg.goal({"executor", "empty tasks, TPE() vs tbb::task_group",
              {"empty: weft TPE()", "empty: tbb::task_group (no futures)"},
              speedup("empty: weft TPE()", "empty: tbb::task_group (no futures)", Better::lower),
              Better::higher, 1.0, 1.0});
    reg.goal({"executor", "empty tasks, TPE() vs asio::thread_pool + use_future",
              {"empty: weft TPE()", "empty: asio::thread_pool + use_future"},
              speedup("empty: weft TPE()", "empty: asio::thread_pool + use_future", Better::lower),
              Better::higher, 1.0, 1.0});
    reg.goal({"executor", "empty tasks, TPE(2) vs tbb::task_group",
              {"empty: weft TPE(2)", "empty: tbb::task_group (no futures)"},
              speedup("empty: weft TPE(2)", "empty: tbb::task_group (no futures)", Better::lower),
              Better::higher, 0, 0});
  }

  // 100k tasks of about 1 us against the ideal: the same work on one thread, spread over
  // the cores the pool can use. Judged against the cores as they ran in this round (each
  // CPU's own one-thread time, measured on a pinned reference thread); the plain
  // "one thread's time / cores" is reported beside it.
  {
    const std::size_t used_default = std::min<std::size_t>(cores(), 32);
    const std::size_t used_two = std::min<std::size_t>(cores(), 2);
    std::vector<int> cpus = allowed_cpus();
    if (cpus.size() > 4) cpus.clear();  // a bigger machine: the plain ideal only
    std::vector<std::string> per_cpu;
    std::vector<Registry::Measurement> ms;
    ms.push_back({"one thread", {{"micro: one thread, no pool", "ms", Better::lower}},
                  [=] { return one(micro_single(micro_tasks)); }});
    for (int cpu : cpus) {
      per_cpu.push_back("micro: one thread pinned to cpu" + std::to_string(cpu));
      ms.push_back({"one thread on cpu" + std::to_string(cpu), {{per_cpu.back(), "ms", Better::lower}},
                    [=] { return one(micro_single_on(cpu, micro_tasks)); }});
    }
    ms.push_back({"weft TPE(2)", {{"micro: weft TPE(2)", "ms", Better::lower}},
                  [=, &reg] { return one(micro_weft(2, micro_tasks, reg, o, "TPE(2)")); }});
    ms.push_back({"weft TPE()", {{"micro: weft TPE()", "ms", Better::lower}},
                  [=, &reg] { return one(micro_weft(0, micro_tasks, reg, o, "TPE()")); }});
    reg.group("executor", micro_label,
              "Each task runs ~1 us of arithmetic and returns it through its Future; timed "
              "from the first submit until the last result is read (workers started before). "
              "Ideal: the same work spread over min(workers, CPUs) cores at the speed each CPU "
              "ran this round (a reference thread pinned to each CPU in turn: 1 / sum(1 / its "
              "time)); the plain ideal, one unpinned thread's time / min(workers, CPUs), is "
              "reported beside it. Virtual CPUs of one machine can run at different speeds.",
              std::move(ms));
    auto plain_ideal = [](const Round& r, std::size_t k) {
      return r.at("micro: one thread, no pool") / static_cast<double>(k);
    };
    auto of_plain = [plain_ideal](std::string weft, std::size_t k) {
      return [plain_ideal, weft = std::move(weft), k](const Round& r) {
        return plain_ideal(r, k) / r.at(weft);
      };
    };
    // A CPU that could not be measured (pinning refused): the plain ideal for that round.
    auto of_cores = [plain_ideal, per_cpu](std::string weft, std::size_t k) {
      return [plain_ideal, weft = std::move(weft), per_cpu, k](const Round& r) {
        const double ideal = ideal_over(r, per_cpu, k);
        return (ideal > 0 ? ideal : plain_ideal(r, k)) / r.at(weft);
      };
    };
    auto add = [&](const std::string& pool, const std::string& value, std::size_t k) {
      const std::string cores_used = std::to_string(k);
      std::vector<std::string> needs = per_cpu;
      needs.push_back(value);
      needs.push_back("micro: one thread, no pool");
      if (!per_cpu.empty())
        reg.goal({"executor", pool + ": share of the ideal (the work spread over " + cores_used +
                                  " CPUs at their measured speeds)",
                  needs, of_cores(value, k), Better::higher, 0.80, 0.90, true});
      reg.goal({"executor", pool + ": share of one thread's time / " + cores_used,
                {"micro: one thread, no pool", value}, of_plain(value, k),
                Better::higher, per_cpu.empty() ? 0.80 : 0, per_cpu.empty() ? 0.90 : 0, true});
    };
    add("TPE(2)", "micro: weft TPE(2)", used_two);
    add("TPE()", "micro: weft TPE()", used_default);
  }

  // The guide's CPU-bound sum, processes against threads.
  {
    char label[96];
    std::snprintf(label, sizeof label, "the guide's CPU-bound sum, n = %lluM, processes vs threads",
                  static_cast<unsigned long long>(sum_n / 1'000'000));
    std::vector<Registry::Measurement> ms;
    ms.push_back({"4 processes", {{"sum: ProcessPoolExecutor(4).map, 4 chunks", "ms", Better::lower}},
                  [=] { return one(sum_processes(4, sum_n)); }});
    ms.push_back({"4 threads", {{"sum: 4 std::threads, 4 chunks", "ms", Better::lower}},
                  [=] { return one(sum_threads(4, sum_n)); }});
    ms.push_back({"2 processes", {{"sum: ProcessPoolExecutor(2).map, 2 chunks", "ms", Better::lower}},
                  [=] { return one(sum_processes(2, sum_n)); }});
    ms.push_back({"2 threads", {{"sum: 2 std::threads, 2 chunks", "ms", Better::lower}},
                  [=] { return one(sum_threads(2, sum_n)); }});
    ms.push_back({"1 thread", {{"sum: 1 thread, whole n", "ms", Better::lower}},
                  [=] { return one(sum_threads(1, sum_n)); }});
    reg.group("process", label,
              "gil_demo.py's cpu_bound_task over n cut in equal chunks, one per worker. "
              "Processes: ProcessPoolExecutor(k).map, pool start and stop inside the timing; "
              "threads: k std::threads started and joined inside the timing.",
              std::move(ms));
    reg.goal({"process", "4 processes vs 4 threads (threads' time / processes' time)",
              {"sum: ProcessPoolExecutor(4).map, 4 chunks", "sum: 4 std::threads, 4 chunks"},
              speedup("sum: ProcessPoolExecutor(4).map, 4 chunks", "sum: 4 std::threads, 4 chunks",
                      Better::lower),
              Better::higher, 0.90, 0.90});
    reg.goal({"process", "2 processes vs 2 threads (threads' time / processes' time)",
              {"sum: ProcessPoolExecutor(2).map, 2 chunks", "sum: 2 std::threads, 2 chunks"},
              speedup("sum: ProcessPoolExecutor(2).map, 2 chunks", "sum: 2 std::threads, 2 chunks",
                      Better::lower),
              Better::higher, 0.95, 0.95});
    reg.goal({"process", "4 processes: speed-up over one thread",
              {"sum: ProcessPoolExecutor(4).map, 4 chunks", "sum: 1 thread, whole n"},
              speedup("sum: ProcessPoolExecutor(4).map, 4 chunks", "sum: 1 thread, whole n",
                      Better::lower),
              Better::higher, 0, 0});
  }
}

}  // namespace goals
