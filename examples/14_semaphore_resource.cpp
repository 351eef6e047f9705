// SPDX-License-Identifier: Apache-2.0
// examples/14_semaphore_resource.cpp: thread communication 5, Semaphore(2).
//
//   import threading
//   import time
//
//   sem = threading.Semaphore(2)
//
//   def worker(name):
//       with sem:
//           print(name, "accessing resource")
//           time.sleep(2)
//
//   threads = []
//
//   for i in range(5):
//       t = threading.Thread(target=worker, args=(f"Thread-{i}",))
//       threads.append(t)
//       t.start()
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

weft::Semaphore sem(2);

void worker(const std::string& name) {
  std::scoped_lock hold(sem);
  std::printf("%s accessing resource\n", name.c_str());
  std::this_thread::sleep_for(2s);
}

int main() {
  std::deque<weft::Thread> threads;

  for (int i = 0; i < 5; ++i) {
    weft::Thread& t = threads.emplace_back(worker, "Thread-" + std::to_string(i));
    t.start();
  }
}
