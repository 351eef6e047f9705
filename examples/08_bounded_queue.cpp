// SPDX-License-Identifier: Apache-2.0
// examples/08_bounded_queue.cpp: thread communication 1, a Queue with a maximum size.
//
//   import queue
//
//   q = queue.Queue(maxsize=3)
//
//   q.put(1)
//   q.put(2)
//
//   print(q.qsize())
//
//   Output:
//   2
#include <cstdio>
#include <weft/queue.hpp>

int main() {
  weft::Queue<int> q(3);  // maxsize=3

  q.put(1);
  q.put(2);

  std::printf("%zu\n", q.qsize());
}
