// SPDX-License-Identifier: Apache-2.0
// Must not compile: a capturing lambda given to ProcessPoolExecutor::map.
#include <utility>
#include <vector>

#include <weft/process.hpp>

void use(weft::ProcessPoolExecutor& ex, weft::Pool& pool, int k) {
  std::vector<int> xs{1, 2};
  (void)ex, (void)pool, (void)k, (void)xs;
  auto r = ex.map([k](int x) { return x + k; }, xs);
  (void)r;
}
