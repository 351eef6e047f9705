// SPDX-License-Identifier: Apache-2.0
// examples/07_queue_task_done.cpp: thread communication 1, producer and consumer with
// task_done.
//
//   import threading
//   import queue
//   import time
//
//   q = queue.Queue()
//
//   def producer():
//       for i in range(5):
//           print("Produced:", i)
//           q.put(i)
//           time.sleep(1)
//
//   def consumer():
//       for i in range(5):
//           item = q.get()
//           print("Consumed:", item)
//           q.task_done()
//
//   t1 = threading.Thread(target=producer)
//   t2 = threading.Thread(target=consumer)
//
//   t1.start()
//   t2.start()
//
//   t1.join()
//   t2.join()
#include <chrono>
#include <cstdio>
#include <thread>
#include <weft/queue.hpp>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

weft::Queue<int> q;

void producer() {
  for (int i = 0; i < 5; ++i) {
    std::printf("Produced: %d\n", i);
    q.put(i);
    std::this_thread::sleep_for(1s);
  }
}

void consumer() {
  for (int i = 0; i < 5; ++i) {
    int item = q.get();
    std::printf("Consumed: %d\n", item);
    q.task_done();
  }
}

int main() {
  weft::Thread t1(producer);
  weft::Thread t2(consumer);

  t1.start();
  t2.start();

  t1.join();
  t2.join();
}
