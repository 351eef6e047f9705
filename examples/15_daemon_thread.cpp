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
// Ctrl-C during the sleep stops the program as in Python: install_keyboard_interrupt() makes
// it throw weft::KeyboardInterrupt out of weft::sleep (Python's default), and main ends with
// status 130, as a shell reports a process Ctrl-C ended.
#include <chrono>
#include <cstdio>
#include <weft/cancel.hpp>
#include <weft/threading.hpp>

using namespace std::chrono_literals;

void background() {
  while (true) {
    std::printf("Running...\n");
    std::fflush(stdout);
    weft::sleep(1s);
  }
}

int main() try {
  weft::install_keyboard_interrupt();

  weft::Thread t(background);

  t.set_daemon(true);  // t.daemon = True

  t.start();

  weft::sleep(3s);
} catch (const weft::KeyboardInterrupt&) {
  return 130;
}
