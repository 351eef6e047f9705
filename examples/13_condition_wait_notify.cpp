// SPDX-License-Identifier: Apache-2.0
// examples/13_condition_wait_notify.cpp: thread communication 4, wait and notify.
//
//   import threading
//
//   condition = threading.Condition()
//
//   items = []
//
//   def consumer():
//       with condition:
//           print("Waiting for item")
//           condition.wait()
//           print("Consumed:", items.pop())
//
//   def producer():
//       with condition:
//           items.append(100)
//           print("Produced item")
//           condition.notify()
//
//   t1 = threading.Thread(target=consumer)
//   t2 = threading.Thread(target=producer)
//
//   t1.start()
//   t2.start()
//
// Difference: the guide's consumer calls wait() unconditionally. If the producer happens to
// take the condition first, its notify() finds nobody waiting and is lost (in Python as in
// weft), and the consumer then waits forever. The consumer below waits for its predicate,
// wait_for(pred) (Python: condition.wait_for(lambda: items)), which returns at once if the
// item is already there.
#include <cstdio>
#include <mutex>
#include <vector>
#include <weft/threading.hpp>

weft::Condition condition;

std::vector<int> items;

void consumer() {
  std::scoped_lock hold(condition);
  std::printf("Waiting for item\n");
  condition.wait_for([] { return !items.empty(); });
  std::printf("Consumed: %d\n", items.back());
  items.pop_back();
}

void producer() {
  std::scoped_lock hold(condition);
  items.push_back(100);
  std::printf("Produced item\n");
  condition.notify();
}

int main() {
  weft::Thread t1(consumer);
  weft::Thread t2(producer);

  t1.start();
  t2.start();
}
