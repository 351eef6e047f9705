// Built against an installed weft, through find_package(weft) and through pkg-config.
#include <weft/weft.hpp>

#include <iostream>

int main() {
  weft::Lock lock;
  int counter = 0;
  {
    std::scoped_lock hold(lock);
    ++counter;
  }
  if (lock.locked() || counter != 1) return 1;
  std::cout << "consumer: weft works, counter = " << counter << "\n";
  return 0;
}
