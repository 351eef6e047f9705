// SPDX-License-Identifier: Apache-2.0
// examples/27_thread_local.cpp: threading.local, one value per thread.
//
//   import threading
//
//   data = threading.local()
//
//   def work(n):
//       data.total = 0                 # each thread sees its own data.total
//       for i in range(n):
//           data.total += i
//       print(f"{threading.current_thread().name}: {data.total}")
//
//   threads = [threading.Thread(target=work, args=(n,), name=f"worker-{n}")
//              for n in (10, 100, 1000)]
//   for t in threads:
//       t.start()
//   for t in threads:
//       t.join()
#include <cstdio>
#include <deque>
#include <string>
#include <weft/threading.hpp>

struct Data {
  long total = 0;
};

weft::local<Data> data;

void work(int n) {
  data->total = 0;  // each thread sees its own data->total
  for (int i = 0; i < n; ++i) data->total += i;
  std::printf("%s: %ld\n", weft::current_thread().name().c_str(), data->total);
}

int main() {
  std::deque<weft::Thread> threads;
  for (int n : {10, 100, 1000})
    threads.emplace_back(weft::ThreadOptions{"worker-" + std::to_string(n), false}, work, n);
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
}
