// SPDX-License-Identifier: Apache-2.0
// Must compile: captureless lambdas everywhere a process pool takes a function.
#include <utility>
#include <vector>

#include <weft/process.hpp>

void use(weft::ProcessPoolExecutor& ex, weft::Pool& pool, int k) {
  std::vector<int> xs{1, 2};
  (void)ex, (void)pool, (void)k, (void)xs;
  auto a = ex.submit([](int x) { return x + 1; }, 1);
  auto b = ex.map([](int x) { return x; }, xs);
  auto c = pool.map([](int x) { return x; }, xs);
  auto d = pool.starmap([](int x, int y) { return x + y; }, std::vector<std::pair<int, int>>{});
  auto e = pool.imap([](int x) { return x; }, xs);
  auto f = pool.imap_unordered([](int x) { return x; }, xs);
  auto g = pool.apply([](int x) { return x; }, 1);
  auto h = pool.apply_async([](int x) { return x; }, 1);
  (void)a, (void)b, (void)c, (void)d, (void)e, (void)f, (void)g, (void)h;
}
