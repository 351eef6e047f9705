// SPDX-License-Identifier: Apache-2.0
// examples/01_race_condition.cpp: the guide's core pattern 1, shared memory without a lock.
//
//   import threading
//
//   counter = 0
//
//   def worker():
//       global counter
//       for _ in range(100000):
//           counter += 1
//
//   threads = []
//   for _ in range(5):
//       t = threading.Thread(target=worker)
//       t.start()
//       threads.append(t)
//
//   for t in threads:
//       t.join()
//
//   print("Counter:", counter)
//   # Output will be incorrect due to race condition (expected: 500000)
//
// Difference: `counter += 1` is written as a relaxed atomic load followed by a relaxed
// atomic store. That is the same non-atomic read-modify-write as Python's (updates get
// lost), but well defined: with a plain `int` the program would have a data race, which is
// undefined behaviour in C++ and which ThreadSanitizer reports. In C++ the 100000
// increments take about as long as starting a thread, so the threads may not overlap and
// the count may come out right; `weft-demo race` starts them together and counts the losses.
#include <atomic>
#include <cstdio>
#include <deque>
#include <weft/threading.hpp>

std::atomic<int> counter = 0;

void worker() {
  for (int i = 0; i < 100000; ++i)
    counter.store(counter.load(std::memory_order_relaxed) + 1,  // counter += 1, in two steps
                  std::memory_order_relaxed);
}

int main() {
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 5; ++i) {
    weft::Thread& t = threads.emplace_back(worker);  // t = threading.Thread(target=worker)
    t.start();                                       // threads.append(t)
  }

  for (auto& t : threads) t.join();

  std::printf("Counter: %d\n", counter.load());
  // Output will be incorrect due to race condition (expected: 500000)
}
