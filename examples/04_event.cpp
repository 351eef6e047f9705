// SPDX-License-Identifier: Apache-2.0
// examples/04_event.cpp: the guide's core pattern 4, signalling with an Event.
//
//   import threading
//   import time
//
//   event = threading.Event()
//
//   def waiting_thread():
//       print("Waiting for event...")
//       event.wait()  # Blocks until event is set
//       print("Event received!")
//
//   def signal_thread():
//       time.sleep(2)
//       print("Setting event")
//       event.set()
//
//   t1 = threading.Thread(target=waiting_thread)
//   t2 = threading.Thread(target=signal_thread)
//
//   t1.start()
//   t2.start()
//
//   t1.join()
//   t2.join()
//
//   # Output:
//   # Waiting for event...
//   # Setting event
//   # Event received!
#include <chrono>
#include <cstdio>
#include <thread>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

weft::Event event;

void waiting_thread() {
  std::printf("Waiting for event...\n");
  event.wait();  // Blocks until event is set
  std::printf("Event received!\n");
}

void signal_thread() {
  std::this_thread::sleep_for(2s);
  std::printf("Setting event\n");
  event.set();
}

int main() {
  weft::Thread t1(waiting_thread);
  weft::Thread t2(signal_thread);

  t1.start();
  t2.start();

  t1.join();
  t2.join();
}
