// SPDX-License-Identifier: Apache-2.0
// examples/20_thread_pool_as_completed.cpp: ThreadPoolExecutor with as_completed (named by
// the guide under "Real applications").
//
//   import time
//   from concurrent.futures import ThreadPoolExecutor, as_completed
//
//   def download(seconds):
//       time.sleep(seconds)          # stands for a network request
//       return f"page that took {seconds}s"
//
//   with ThreadPoolExecutor(max_workers=4) as executor:
//       futures = [executor.submit(download, s) for s in (0.8, 0.2, 0.6, 0.4)]
//       for future in as_completed(futures):     # the fastest first
//           print(future.result())
//
//       for page in executor.map(download, (0.3, 0.1)):   # in input order
//           print(page)
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>
#include <weft/futures.hpp>

std::string download(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));  // a network request
  return "page that took " + std::to_string(seconds).substr(0, 3) + "s";
}

int main() {
  weft::ThreadPoolExecutor executor(4);  // with ThreadPoolExecutor(max_workers=4) as executor:
  std::vector<weft::Future<std::string>> futures;
  for (double s : {0.8, 0.2, 0.6, 0.4}) futures.push_back(executor.submit(download, s));
  for (auto& future : weft::as_completed(futures))  // the fastest first
    std::printf("%s\n", future.result().c_str());

  for (const std::string& page : executor.map(download, std::vector<double>{0.3, 0.1}))
    std::printf("%s\n", page.c_str());  // in input order
}
