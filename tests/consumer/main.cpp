// SPDX-License-Identifier: Apache-2.0
// Built against an installed weft, through find_package(weft) and through pkg-config.
// WEFT_CONSUMER_EXPECT_VERSION: the version the package says it is (CMake or pkg-config);
// WEFT_CONSUMER_EXPECT_CXX23: compiled with -std=c++2b, which weft's flags must not undo.
#include <weft/weft.hpp>

#include <iostream>
#include <mutex>
#include <string_view>

#if WEFT_CONSUMER_EXPECT_CXX23
static_assert(__cplusplus > 202002L, "weft's compile flags turned a C++23 build into C++20");
#endif

int main() {
  // The package, the headers and the library it links must be one version.
  const std::string_view expected = WEFT_CONSUMER_EXPECT_VERSION;
  if (expected != WEFT_VERSION_STRING || expected != weft::version()) {
    std::cerr << "consumer: package " << expected << ", headers " << WEFT_VERSION_STRING
              << ", library " << weft::version() << "\n";
    return 1;
  }

  weft::Lock lock;
  weft::Queue<int> q;
  int counter = 0;
  weft::Thread producer([&] {
    for (int i = 1; i <= 3; ++i) q.put(i);
  });
  producer.start();
  for (int i = 0; i < 3; ++i) {
    const int item = q.get();
    std::scoped_lock hold(lock);
    counter += item;
  }
  producer.join();
  weft::ThreadPoolExecutor pool(2);
  auto f = pool.submit([](int x) { return x * 2; }, counter);
  const int doubled = f.result();
  if (lock.locked() || counter != 6 || doubled != 12) return 1;
  std::cout << "consumer: weft " << weft::version() << " works, counter = " << counter
            << ", doubled = " << doubled << "\n";
  return 0;
}
