// SPDX-License-Identifier: Apache-2.0
// Built against an installed weft::dist (libweft-dist-dev), through
// find_package(weft COMPONENTS dist) and through pkg-config weft-dist: the header, the
// library and hiredis link, and a call into the library works (no server needed).
#include <weft/dist.hpp>

#include <iostream>

int twice(int x) { return 2 * x; }
WEFT_REMOTE(twice);

int main() {
  try {
    weft::dist::Queue<int> q("not-a-redis-url");
    std::cerr << "consumer_dist: a malformed URL was accepted\n";
    return 1;
  } catch (const weft::ValueError&) {
  }
  try {  // connecting goes through hiredis
    weft::dist::Queue<int> q("redis+unix:///nonexistent-weft-dir/redis.sock?name=q&timeout=500");
    std::cerr << "consumer_dist: connected to nothing\n";
    return 1;
  } catch (const weft::dist::ConnectionError&) {
  }
  std::cout << "consumer_dist: ok\n";
  return 0;
}
