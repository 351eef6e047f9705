// SPDX-License-Identifier: Apache-2.0
// examples/05_condition.cpp: the guide's core pattern 5, wait and notify with a Condition.
//
//   import threading
//   import time
//
//   condition = threading.Condition()
//   data_ready = False
//
//   def producer():
//       global data_ready
//       time.sleep(2)
//       with condition:
//           data_ready = True
//           print("Data produced")
//           condition.notify()  # Wake up waiting thread
//
//   def consumer():
//       global data_ready
//       with condition:
//           while not data_ready:
//               print("Waiting for data...")
//               condition.wait()  # Release lock and wait
//           print("Data consumed")
//
//   t1 = threading.Thread(target=producer)
//   t2 = threading.Thread(target=consumer)
//
//   t2.start()  # Start consumer first (it will wait)
//   t1.start()
//
//   t1.join()
//   t2.join()
//
//   # Output:
//   # Waiting for data...
//   # Data produced
//   # Data consumed
//
// `with condition:` is std::scoped_lock over the Condition (it forwards to its lock).
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

weft::Condition condition;
bool data_ready = false;

void producer() {
  std::this_thread::sleep_for(2s);
  std::scoped_lock hold(condition);
  data_ready = true;
  std::printf("Data produced\n");
  condition.notify();  // Wake up waiting thread
}

void consumer() {
  std::scoped_lock hold(condition);
  while (!data_ready) {
    std::printf("Waiting for data...\n");
    condition.wait();  // Release lock and wait
  }
  std::printf("Data consumed\n");
}

int main() {
  weft::Thread t1(producer);
  weft::Thread t2(consumer);

  t2.start();  // Start consumer first (it will wait)
  t1.start();

  t1.join();
  t2.join();
}
