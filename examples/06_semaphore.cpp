// SPDX-License-Identifier: Apache-2.0
// examples/06_semaphore.cpp: the guide's core pattern 6, at most two threads at a time.
//
//   import threading
//   import time
//
//   # Semaphore allows at most 2 threads to access simultaneously
//   sem = threading.Semaphore(2)
//
//   def worker(thread_id):
//       with sem:
//           print(f"Thread {thread_id} entering (acquired semaphore)")
//           time.sleep(2)
//           print(f"Thread {thread_id} leaving (releasing semaphore)")
//
//   threads = []
//   for i in range(5):
//       t = threading.Thread(target=worker, args=(i,))
//       t.start()
//       threads.append(t)
//
//   for t in threads:
//       t.join()
//
//   print("All threads complete!")
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

// Semaphore allows at most 2 threads to access simultaneously
weft::Semaphore sem(2);

void worker(int thread_id) {
  std::scoped_lock hold(sem);  // with sem:
  std::printf("Thread %d entering (acquired semaphore)\n", thread_id);
  std::this_thread::sleep_for(2s);
  std::printf("Thread %d leaving (releasing semaphore)\n", thread_id);
}

int main() {
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 5; ++i) {
    weft::Thread& t = threads.emplace_back(worker, i);  // target=worker, args=(i,)
    t.start();
  }

  for (auto& t : threads) t.join();

  std::printf("All threads complete!\n");
}
