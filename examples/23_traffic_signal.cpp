// SPDX-License-Identifier: Apache-2.0
// examples/23_traffic_signal.cpp: the guide's real-life table, "Traffic signal: Event".
//
//   import threading
//   import time
//
//   green = threading.Event()
//
//   def car(n):
//       print(f"car {n} waits at the red light")
//       green.wait()
//       print(f"car {n} crosses")
//
//   cars = [threading.Thread(target=car, args=(n,)) for n in range(3)]
//   for c in cars:
//       c.start()
//   time.sleep(1)
//   print("light turns green")
//   green.set()
//   for c in cars:
//       c.join()
#include <chrono>
#include <cstdio>
#include <deque>
#include <thread>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

weft::Event green;

void car(int n) {
  std::printf("car %d waits at the red light\n", n);
  green.wait();
  std::printf("car %d crosses\n", n);
}

int main() {
  std::deque<weft::Thread> cars;
  for (int n = 0; n < 3; ++n) cars.emplace_back(car, n);
  for (auto& c : cars) c.start();
  std::this_thread::sleep_for(1s);
  std::printf("light turns green\n");
  green.set();
  for (auto& c : cars) c.join();
}
