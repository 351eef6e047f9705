// SPDX-License-Identifier: Apache-2.0
// examples/25_printer_access.cpp: the guide's real-life table, "Printer access: Semaphore".
//
//   import threading
//   import time
//
//   printers = threading.BoundedSemaphore(2)    # two printers in the office
//
//   def print_job(n):
//       with printers:
//           print(f"job {n} is printing")
//           time.sleep(0.5)
//       print(f"job {n} done")
//
//   jobs = [threading.Thread(target=print_job, args=(n,)) for n in range(5)]
//   for j in jobs:
//       j.start()
//   for j in jobs:
//       j.join()
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

weft::BoundedSemaphore printers(2);  // two printers in the office

void print_job(int n) {
  {
    std::scoped_lock hold(printers);  // with printers:
    std::printf("job %d is printing\n", n);
    std::this_thread::sleep_for(500ms);
  }
  std::printf("job %d done\n", n);
}

int main() {
  std::deque<weft::Thread> jobs;
  for (int n = 0; n < 5; ++n) jobs.emplace_back(print_job, n);
  for (auto& j : jobs) j.start();
  for (auto& j : jobs) j.join();
}
