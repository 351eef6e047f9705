// SPDX-License-Identifier: Apache-2.0
// Must not compile: a generic lambda (no single function pointer) given to submit.
#include <utility>
#include <vector>

#include <weft/process.hpp>

void use(weft::ProcessPoolExecutor& ex, weft::Pool& pool, int k) {
  std::vector<int> xs{1, 2};
  (void)ex, (void)pool, (void)k, (void)xs;
  auto r = ex.submit([](auto x) { return x + 1; }, 1);
  (void)r;
}
