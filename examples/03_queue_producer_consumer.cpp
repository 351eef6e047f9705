// SPDX-License-Identifier: Apache-2.0
// examples/03_queue_producer_consumer.cpp: the guide's core pattern 3, Queue with a None
// sentinel.
//
//   import threading
//   from queue import Queue
//
//   q = Queue()
//
//   def producer():
//       for i in range(5):
//           q.put(i)
//           print(f"Produced: {i}")
//
//   def consumer():
//       while True:
//           item = q.get()
//           if item is None:
//               break
//           print(f"Consumed: {item}")
//           q.task_done()
//
//   p = threading.Thread(target=producer)
//   c = threading.Thread(target=consumer)
//
//   p.start()
//   c.start()
//
//   p.join()
//   q.put(None)  # Signal consumer to stop
//   c.join()
//
//   print("Done!")
//
// Python's None is an empty std::optional: the queue holds std::optional<int>.
#include <cstdio>
#include <optional>
#include <weft/queue.hpp>
#include <weft/threading.hpp>

weft::Queue<std::optional<int>> q;

void producer() {
  for (int i = 0; i < 5; ++i) {
    q.put(i);
    std::printf("Produced: %d\n", i);
  }
}

void consumer() {
  while (true) {
    std::optional<int> item = q.get();
    if (!item) break;
    std::printf("Consumed: %d\n", *item);
    q.task_done();
  }
}

int main() {
  weft::Thread p(producer);
  weft::Thread c(consumer);

  p.start();
  c.start();

  p.join();
  q.put(std::nullopt);  // Signal consumer to stop
  c.join();

  std::printf("Done!\n");
}
