// SPDX-License-Identifier: Apache-2.0
// examples/17_rlock.cpp: RLock, a lock its owner may take again (named by the guide).
//
//   import threading
//
//   lock = threading.RLock()
//   balance = 0
//
//   def deposit(amount):
//       global balance
//       with lock:
//           balance += amount
//
//   def deposit_twice(amount):
//       with lock:              # held once...
//           deposit(amount)     # ...and taken again by the same thread
//           deposit(amount)
//
//   threads = [threading.Thread(target=deposit_twice, args=(50,)) for _ in range(4)]
//   for t in threads:
//       t.start()
//   for t in threads:
//       t.join()
//
//   print("Balance:", balance)
//   # Output: Balance: 400
//
// With a plain Lock, deposit() would block forever on the lock its own caller holds.
#include <cstdio>
#include <deque>
#include <mutex>
#include <weft/threading.hpp>

weft::RLock lock;
int balance = 0;

void deposit(int amount) {
  std::scoped_lock hold(lock);
  balance += amount;
}

void deposit_twice(int amount) {
  std::scoped_lock hold(lock);  // held once...
  deposit(amount);              // ...and taken again by the same thread
  deposit(amount);
}

int main() {
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(deposit_twice, 50);
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();

  std::printf("Balance: %d\n", balance);
  // Output: Balance: 400
}
