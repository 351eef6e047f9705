// SPDX-License-Identifier: Apache-2.0
// examples/18_barrier.cpp: Barrier, threads that meet before each phase (named by the guide).
//
//   import threading
//
//   def phase_done():
//       print("--- everyone finished the phase")
//
//   barrier = threading.Barrier(3, action=phase_done)
//
//   def worker(name):
//       for phase in range(2):
//           print(f"{name} works on phase {phase}")
//           barrier.wait()
//
//   threads = [threading.Thread(target=worker, args=(f"worker-{i}",)) for i in range(3)]
//   for t in threads:
//       t.start()
//   for t in threads:
//       t.join()
#include <cstdio>
#include <deque>
#include <string>
#include <weft/threading.hpp>

void phase_done() { std::printf("--- everyone finished the phase\n"); }

weft::Barrier barrier(3, phase_done);  // action=phase_done

void worker(const std::string& name) {
  for (int phase = 0; phase < 2; ++phase) {
    std::printf("%s works on phase %d\n", name.c_str(), phase);
    barrier.wait();
  }
}

int main() {
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back(worker, "worker-" + std::to_string(i));
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
}
