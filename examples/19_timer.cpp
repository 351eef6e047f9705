// SPDX-License-Identifier: Apache-2.0
// examples/19_timer.cpp: Timer, run a function later or cancel it (named by the guide).
//
//   import threading
//
//   def hello():
//       print("hello, world")
//
//   def never():
//       print("this never prints")
//
//   t = threading.Timer(0.5, hello)
//   t.start()                 # after 0.5 seconds, "hello, world" is printed
//
//   u = threading.Timer(0.5, never)
//   u.start()
//   u.cancel()                # stops the timer before it fires
//
//   t.join()
//   u.join()
#include <chrono>
#include <cstdio>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

void hello() { std::printf("hello, world\n"); }

void never() { std::printf("this never prints\n"); }

int main() {
  weft::Timer t(500ms, hello);
  t.start();  // after 0.5 seconds, "hello, world" is printed

  weft::Timer u(500ms, never);
  u.start();
  u.cancel();  // stops the timer before it fires

  t.join();
  u.join();
}
