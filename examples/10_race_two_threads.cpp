// SPDX-License-Identifier: Apache-2.0
// examples/10_race_two_threads.cpp: thread communication 3, the unsafe shared counter.
//
//   import threading
//
//   counter = 0
//
//   def increase():
//       global counter
//       for i in range(100000):
//           counter += 1
//
//   t1 = threading.Thread(target=increase)
//   t2 = threading.Thread(target=increase)
//
//   t1.start()
//   t2.start()
//
//   t1.join()
//   t2.join()
//
//   print(counter)
//
//   Output may be less than 200000 due to a race condition.
//
// As in 01_race_condition.cpp, `counter += 1` is a relaxed atomic load then store: the same
// lost updates, without the undefined behaviour a plain `int` would have. The two loops are
// short in C++ and may not overlap: `weft-demo race-two` starts them together.
#include <atomic>
#include <cstdio>
#include <weft/threading.hpp>

std::atomic<int> counter = 0;

void increase() {
  for (int i = 0; i < 100000; ++i)
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

int main() {
  weft::Thread t1(increase);
  weft::Thread t2(increase);

  t1.start();
  t2.start();

  t1.join();
  t2.join();

  std::printf("%d\n", counter.load());
}
