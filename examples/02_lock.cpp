// SPDX-License-Identifier: Apache-2.0
// examples/02_lock.cpp: the guide's core pattern 2, a counter protected by a Lock.
//
//   import threading
//
//   counter = 0
//   lock = threading.Lock()
//
//   def worker():
//       global counter
//       for _ in range(100000):
//           with lock:  # Only one thread can enter this block at a time
//               counter += 1
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
//   # Output: Counter: 500000 (correct)
//
// `with lock:` is std::scoped_lock: it acquires, and releases when the block ends.
#include <cstdio>
#include <deque>
#include <mutex>
#include <weft/threading.hpp>

int counter = 0;
weft::Lock lock;

void worker() {
  for (int i = 0; i < 100000; ++i) {
    std::scoped_lock hold(lock);  // Only one thread can enter this block at a time
    counter += 1;
  }
}

int main() {
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 5; ++i) {
    weft::Thread& t = threads.emplace_back(worker);
    t.start();
  }

  for (auto& t : threads) t.join();

  std::printf("Counter: %d\n", counter);
  // Output: Counter: 500000 (correct)
}
