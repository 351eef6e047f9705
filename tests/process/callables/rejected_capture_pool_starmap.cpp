// SPDX-License-Identifier: Apache-2.0
// Must not compile: a capturing lambda given to Pool::starmap.
#include <utility>
#include <vector>

#include <weft/process.hpp>

void use(weft::ProcessPoolExecutor& ex, weft::Pool& pool, int k) {
  std::vector<int> xs{1, 2};
  (void)ex, (void)pool, (void)k, (void)xs;
  auto r = pool.starmap([&](int a, int b) { return a + b + k; }, std::vector<std::pair<int, int>>{});
  (void)r;
}
