// SPDX-License-Identifier: Apache-2.0
// examples/15_daemon_thread.cpp: daemon threads do not keep the program alive.
//
//   import threading
//   import time
//
//   def background():
//       while True:
//           print("Running...")
//           time.sleep(1)
//
//   t = threading.Thread(target=background)
//
//   t.daemon = True
//
//   t.start()
//
//   time.sleep(3)
//
// When main returns, weft abandons daemon threads (and joins the others), as Python does.
#include <chrono>
#include <cstdio>
#include <thread>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

void background() {
  while (true) {
    std::printf("Running...\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(1s);
  }
}

int main() {
  weft::Thread t(background);

  t.set_daemon(true);  // t.daemon = True

  t.start();

  std::this_thread::sleep_for(3s);
}
