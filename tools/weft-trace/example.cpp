// SPDX-License-Identifier: Apache-2.0
// weft-trace-example: a small threaded program to try the debug tools on.
//
// A producer fills a bounded queue of jobs; three workers take them, each job updating a
// shared, contended "results" lock; then a thread pool runs a few tasks. Then two threads take "accounts" and "audit" in
// opposite orders, one after the other: no deadlock happens, but the order is wrong.
//
//   WEFT_TRACE=trace.json weft-trace-example && weft-trace trace.json -o trace.html
//   WEFT_DEBUG=lock-order weft-trace-example      (reports the accounts/audit inversion)
//   WEFT_DEBUG=stats weft-trace-example           (prints statistics at exit)
//   weft-trace-example --dump                     (a thread dump while workers wait)
#include <chrono>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "weft/debug.hpp"
#include "weft/futures.hpp"
#include "weft/lock.hpp"
#include "weft/queue.hpp"
#include "weft/thread.hpp"

namespace {

// Stands for real work: keeps the core busy for about `us` microseconds.
void work_for(int us) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < end) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool dump = argc > 1 && std::strcmp(argv[1], "--dump") == 0;
  weft::Queue<int> jobs(4, "jobs");
  weft::Lock results("results");
  long total = 0;

  std::vector<std::unique_ptr<weft::Thread>> workers;
  for (int w = 1; w <= 3; ++w) {
    workers.push_back(std::make_unique<weft::Thread>(
        weft::ThreadOptions{"worker-" + std::to_string(w)}, [&] {
          for (;;) {
            const int job = jobs.get();
            if (job < 0) return;
            work_for(100);  // compute outside the lock
            results.acquire();
            total += job;
            work_for(400);  // a critical section that is too long: workers queue up here
            results.release();
          }
        }));
    workers.back()->start();
  }
  if (dump) {
    // The workers are blocked on the empty queue now (or about to be).
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    weft::debug::dump(std::cout);
  }
  weft::Thread producer(weft::ThreadOptions{"producer"}, [&] {
    for (int i = 1; i <= 40; ++i) jobs.put(i);
    for (int w = 0; w < 3; ++w) jobs.put(-1);  // one stop signal per worker
  });
  producer.start();
  producer.join();
  for (auto& w : workers) w->join();
  std::cout << "total " << total << "\n";

  // The same kind of work through a thread pool: each task is a span in the trace.
  {
    weft::ThreadPoolExecutor pool(2, "pool");
    std::vector<weft::Future<long>> parts;
    for (int t = 0; t < 8; ++t) {
      parts.push_back(pool.submit([&results, t] {
        work_for(200);
        std::scoped_lock hold(results);
        return static_cast<long>(t);
      }));
    }
    long sum = 0;
    for (auto& f : parts) sum += f.result();
    std::cout << "pool sum " << sum << "\n";
  }

  // Two code paths that take the same two locks in opposite orders.
  weft::Lock accounts("accounts"), audit("audit");
  weft::Thread transfer(weft::ThreadOptions{"transfer"}, [&] {
    accounts.acquire();
    audit.acquire();
    audit.release();
    accounts.release();
  });
  transfer.start();
  transfer.join();
  weft::Thread report(weft::ThreadOptions{"report"}, [&] {
    audit.acquire();
    accounts.acquire();
    accounts.release();
    audit.release();
  });
  report.start();
  report.join();
  return 0;
}
