// SPDX-License-Identifier: Apache-2.0
// examples/11_lock_acquire_release.cpp: thread communication 3, the race solved with a Lock.
//
//   import threading
//
//   counter = 0
//
//   lock = threading.Lock()
//
//   def increase():
//       global counter
//       for i in range(100000):
//           lock.acquire()
//           counter += 1
//           lock.release()
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
//   Output:
//   200000
#include <cstdio>
#include <weft/threading.hpp>

int counter = 0;

weft::Lock lock;

void increase() {
  for (int i = 0; i < 100000; ++i) {
    lock.acquire();
    counter += 1;
    lock.release();
  }
}

int main() {
  weft::Thread t1(increase);
  weft::Thread t2(increase);

  t1.start();
  t2.start();

  t1.join();
  t2.join();

  std::printf("%d\n", counter);
}
