// SPDX-License-Identifier: Apache-2.0
// examples/09_event_wait_set.cpp: thread communication 2, one thread waits, another signals.
//
//   import threading
//   import time
//
//   event = threading.Event()
//
//   def waiter():
//       print("Waiting for signal...")
//       event.wait()
//       print("Signal received")
//
//   def sender():
//       time.sleep(3)
//       print("Sending signal")
//       event.set()
//
//   t1 = threading.Thread(target=waiter)
//   t2 = threading.Thread(target=sender)
//
//   t1.start()
//   t2.start()
//
// The guide does not join: Python joins non-daemon threads when the program ends. weft
// does the same when main returns; here the Thread objects' destructors join them first.
#include <chrono>
#include <cstdio>
#include <thread>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

weft::Event event;

void waiter() {
  std::printf("Waiting for signal...\n");
  event.wait();
  std::printf("Signal received\n");
}

void sender() {
  std::this_thread::sleep_for(3s);
  std::printf("Sending signal\n");
  event.set();
}

int main() {
  weft::Thread t1(waiter);
  weft::Thread t2(sender);

  t1.start();
  t2.start();
}
