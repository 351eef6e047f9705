// SPDX-License-Identifier: Apache-2.0
// examples/21_process_pool.cpp: a process pool for CPU-bound work (named by the guide:
// "Use multiprocessing instead").
//
//   from concurrent.futures import ProcessPoolExecutor
//
//   def sum_of_squares(n):
//       return sum(i * i for i in range(n))
//
//   if __name__ == "__main__":
//       with ProcessPoolExecutor(max_workers=4) as pool:
//           for n, total in zip([10, 100, 1000], pool.map(sum_of_squares, [10, 100, 1000])):
//               print(n, total)
//           future = pool.submit(sum_of_squares, 10_000)
//           print(future.result())
//
// The function runs in another process, so it is a plain function (no captures), and its
// argument and result are copied across ("wire types": numbers, strings, vectors, ...).
#include <cstdint>
#include <cstdio>
#include <vector>
#include <weft/process.hpp>

std::uint64_t sum_of_squares(std::uint64_t n) {
  std::uint64_t total = 0;
  for (std::uint64_t i = 0; i < n; ++i) total += i * i;
  return total;
}

int main() {
  weft::ProcessPoolExecutor pool(4);  // with ProcessPoolExecutor(max_workers=4) as pool:
  const std::vector<std::uint64_t> inputs = {10, 100, 1000};
  std::size_t k = 0;
  for (std::uint64_t total : pool.map(sum_of_squares, inputs))
    std::printf("%llu %llu\n", static_cast<unsigned long long>(inputs[k++]),
                static_cast<unsigned long long>(total));
  weft::Future<std::uint64_t> future = pool.submit(sum_of_squares, std::uint64_t{10'000});
  std::printf("%llu\n", static_cast<unsigned long long>(future.result()));
}
