// Built against an installed weft, through find_package(weft) and through pkg-config.
#include <weft/weft.hpp>

#include <iostream>
#include <mutex>

int main() {
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
  std::cout << "consumer: weft works, counter = " << counter << ", doubled = " << doubled << "\n";
  return 0;
}
