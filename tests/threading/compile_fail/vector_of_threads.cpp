// SPDX-License-Identifier: Apache-2.0
// Must not compile, and the first error must explain why (tests/support/compile_fail.cmake).
// expect-error: weft::Thread is not movable (it is shared by reference with its running thread
#include <vector>

#include "weft/thread.hpp"

int main() {
  std::vector<weft::Thread> threads;
  threads.emplace_back([] {});  // growing a vector moves its elements
}
