// SPDX-License-Identifier: Apache-2.0
// weft-trace-generate: records a large trace of a busy program, to try weft-trace (and
// its page) on: half the threads put items into one bounded Queue "jobs", the other half
// take them and update a Lock "results" for each. The main thread records a few events
// first, then waits; with more events than the per-thread buffers hold, the workers'
// buffers wrap while the main thread keeps its early events.
//
//   weft-trace-generate -o big.json --threads 16 --items 50000   (about 600k events)
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <vector>

#include "common/cli.hpp"
#include "weft/debug.hpp"
#include "weft/lock.hpp"
#include "weft/queue.hpp"
#include "weft/thread.hpp"

int main(int argc, char** argv) {
  CLI::App app{"weft-trace-generate: records the trace of a busy queue (for trying weft-trace)"};
  std::string output;
  std::size_t threads = 16, items = 50000, events_per_thread = 16384;
  app.add_option("-o,--output", output, "trace file to write")->required();
  app.add_option("--threads", threads, "worker threads (half put, half get; at least 2)")
      ->capture_default_str()
      ->check(CLI::Range(2, 4096));
  app.add_option("--items", items, "items passed through the queue")->capture_default_str();
  app.add_option("--events-per-thread", events_per_thread, "trace buffer per thread, in events")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24));
  weft_tools::add_version_flag(app, "weft-trace-generate");
  if (const auto status = weft_tools::parse_command_line(app, argc, argv)) return *status;

  weft::debug::Options o;
  o.trace_path = output;
  o.trace_events_per_thread = events_per_thread;
  weft::debug::enable(o);

  weft::Lock setup("setup");
  for (int i = 0; i < 8; ++i) {  // the main thread's early events
    setup.acquire();
    setup.release();
  }
  weft::Queue<long> jobs(64, "jobs");
  weft::Lock results("results");
  long total = 0;
  const std::size_t producers = threads / 2, consumers = threads - producers;
  std::vector<std::unique_ptr<weft::Thread>> workers;
  for (std::size_t p = 0; p < producers; ++p) {
    const std::size_t share = items / producers + (p < items % producers ? 1 : 0);
    workers.push_back(std::make_unique<weft::Thread>(
        weft::ThreadOptions{"producer-" + std::to_string(p)}, [&jobs, share] {
          for (std::size_t i = 0; i < share; ++i) jobs.put(static_cast<long>(i));
        }));
  }
  for (std::size_t c = 0; c < consumers; ++c) {
    workers.push_back(std::make_unique<weft::Thread>(
        weft::ThreadOptions{"consumer-" + std::to_string(c)}, [&jobs, &results, &total] {
          for (long v; (v = jobs.get()) >= 0;) {
            results.acquire();
            total += v;
            results.release();
          }
        }));
  }
  for (auto& w : workers) w->start();
  for (std::size_t p = 0; p < producers; ++p) workers[p]->join();
  for (std::size_t c = 0; c < consumers; ++c) jobs.put(-1);  // one stop sign each
  for (auto& w : workers) w->join();
  const bool written = weft::debug::write_trace();
  weft::debug::disable();
  if (!written) {
    std::fprintf(stderr, "weft-trace-generate: cannot write %s\n", output.c_str());
    return 1;
  }
  std::printf("%s: %zu items through Queue \"jobs\" by %zu threads (sum %ld)\n", output.c_str(),
              items, threads, total);
  return 0;
}
