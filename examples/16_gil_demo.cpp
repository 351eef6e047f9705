// SPDX-License-Identifier: Apache-2.0
// examples/16_gil_demo.cpp: the guide's gil_demo.py, in C++.
//
//   import threading
//   import time
//   import multiprocessing
//
//   # Demo 1: CPU-bound task - threading doesn't help
//   def cpu_bound_task(n):
//       """Heavy computation task"""
//       count = 0
//       for i in range(n):
//           count += i * i
//       return count
//
//   def test_cpu_bound():
//       """Test CPU-bound performance with threading"""
//       print("=== CPU-bound Task Test ===")
//       n = 10_000_000
//
//       # Single thread
//       start = time.time()
//       cpu_bound_task(n)
//       single_time = time.time() - start
//       print(f"Single thread: {single_time:.2f} seconds")
//
//       # Multiple threads (won't help due to GIL)
//       start = time.time()
//       threads = []
//       for _ in range(4):
//           thread = threading.Thread(target=cpu_bound_task, args=(n//4,))
//           threads.append(thread)
//           thread.start()
//
//       for thread in threads:
//           thread.join()
//
//       multi_time = time.time() - start
//       print(f"4 threads: {multi_time:.2f} seconds")
//       print(f"Speedup: {single_time/multi_time:.2f}x")
//       print("Note: Threading doesn't help CPU-bound tasks due to GIL!")
//
//   # Demo 2: I/O-bound task - threading helps
//   def io_bound_task(duration):
//       """Simulate I/O wait"""
//       time.sleep(duration)
//       return f"Slept for {duration}s"
//
//   def test_io_bound():
//       """Test I/O-bound performance with threading"""
//       print("\n=== I/O-bound Task Test ===")
//       sleep_time = 1
//
//       # Single thread
//       start = time.time()
//       for _ in range(4):
//           io_bound_task(sleep_time)
//       single_time = time.time() - start
//       print(f"Single thread (4 tasks): {single_time:.2f} seconds")
//
//       # Multiple threads
//       start = time.time()
//       threads = []
//       for _ in range(4):
//           thread = threading.Thread(target=io_bound_task, args=(sleep_time,))
//           threads.append(thread)
//           thread.start()
//
//       for thread in threads:
//           thread.join()
//
//       multi_time = time.time() - start
//       print(f"4 threads (4 tasks): {multi_time:.2f} seconds")
//       print(f"Speedup: {single_time/multi_time:.2f}x")
//       print("Note: Threading helps I/O-bound tasks!")
//
//   # Demo 3: Multiprocessing for CPU-bound tasks
//   def test_multiprocessing():
//       """Use multiprocessing for CPU-bound tasks"""
//       print("\n=== Multiprocessing for CPU-bound ===")
//       n = 10_000_000
//
//       # Single process
//       start = time.time()
//       cpu_bound_task(n)
//       single_time = time.time() - start
//       print(f"Single process: {single_time:.2f} seconds")
//
//       # Multiple processes
//       start = time.time()
//       with multiprocessing.Pool(4) as pool:
//           # Split work among processes
//           results = pool.map(cpu_bound_task, [n//4] * 4)
//
//       multi_time = time.time() - start
//       print(f"4 processes: {multi_time:.2f} seconds")
//       print(f"Speedup: {single_time/multi_time:.2f}x")
//       print("Note: Multiprocessing helps CPU-bound tasks!")
//
//   if __name__ == "__main__":
//       test_cpu_bound()
//       test_io_bound()
//       test_multiprocessing()
//
// Differences: C++ has no interpreter lock, so the 4 threads of demo 1 do run in parallel
// (the note says so). n is 40 times the guide's, because 10_000_000 iterations take a few
// milliseconds in C++. `weft-demo gil` runs this experiment with an emulated GIL as well,
// and draws the speed-ups.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <string>
#include <thread>
#include <vector>
#include <weft/process.hpp>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

double now() {  // time.time(), on the steady clock
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Demo 1: CPU-bound task
std::uint64_t cpu_bound_task(std::uint64_t n) {
  // Heavy computation task
  std::uint64_t count = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    count += i * i;
    asm volatile("" : "+r"(count));  // keep the optimizer from folding the loop
  }
  return count;
}

void test_cpu_bound() {
  std::printf("=== CPU-bound Task Test ===\n");
  const std::uint64_t n = 400'000'000;

  // Single thread
  double start = now();
  cpu_bound_task(n);
  const double single_time = now() - start;
  std::printf("Single thread: %.2f seconds\n", single_time);

  // Multiple threads (in C++ they run in parallel)
  start = now();
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 4; ++i) {
    weft::Thread& thread = threads.emplace_back(cpu_bound_task, n / 4);
    thread.start();
  }

  for (auto& thread : threads) thread.join();

  const double multi_time = now() - start;
  std::printf("4 threads: %.2f seconds\n", multi_time);
  std::printf("Speedup: %.2fx\n", single_time / multi_time);
  std::printf("Note: without a GIL, threads help CPU-bound tasks too (up to the core count)\n");
}

// Demo 2: I/O-bound task
std::string io_bound_task(int duration) {
  // Simulate I/O wait
  std::this_thread::sleep_for(std::chrono::seconds(duration));
  return "Slept for " + std::to_string(duration) + "s";
}

void test_io_bound() {
  std::printf("\n=== I/O-bound Task Test ===\n");
  const int sleep_time = 1;

  // Single thread
  double start = now();
  for (int i = 0; i < 4; ++i) io_bound_task(sleep_time);
  const double single_time = now() - start;
  std::printf("Single thread (4 tasks): %.2f seconds\n", single_time);

  // Multiple threads
  start = now();
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 4; ++i) {
    weft::Thread& thread = threads.emplace_back(io_bound_task, sleep_time);
    thread.start();
  }

  for (auto& thread : threads) thread.join();

  const double multi_time = now() - start;
  std::printf("4 threads (4 tasks): %.2f seconds\n", multi_time);
  std::printf("Speedup: %.2fx\n", single_time / multi_time);
  std::printf("Note: Threading helps I/O-bound tasks!\n");
}

// Demo 3: Multiprocessing for CPU-bound tasks
void test_multiprocessing() {
  std::printf("\n=== Multiprocessing for CPU-bound ===\n");
  const std::uint64_t n = 400'000'000;

  // Single process
  double start = now();
  cpu_bound_task(n);
  const double single_time = now() - start;
  std::printf("Single process: %.2f seconds\n", single_time);

  // Multiple processes
  start = now();
  {
    weft::Pool pool(4);  // with multiprocessing.Pool(4) as pool:
    // Split work among processes
    std::vector<std::uint64_t> results =
        pool.map(cpu_bound_task, std::vector<std::uint64_t>(4, n / 4));
  }

  const double multi_time = now() - start;
  std::printf("4 processes: %.2f seconds\n", multi_time);
  std::printf("Speedup: %.2fx\n", single_time / multi_time);
  std::printf("Note: Multiprocessing helps CPU-bound tasks!\n");
}

int main() {
  test_cpu_bound();
  test_io_bound();
  test_multiprocessing();
}
