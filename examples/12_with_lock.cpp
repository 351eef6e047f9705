// SPDX-License-Identifier: Apache-2.0
// examples/12_with_lock.cpp: thread communication 3, the `with` statement.
//
//   import threading
//
//   lock = threading.Lock()
//
//   with lock:
//       print("Critical section")
//
// std::scoped_lock acquires the lock and releases it when the block ends, also when an
// exception leaves the block, as `with` does.
#include <cstdio>
#include <mutex>
#include <weft/threading.hpp>

weft::Lock lock;

int main() {
  {
    std::scoped_lock hold(lock);  // with lock:
    std::printf("Critical section\n");
  }
}
