// SPDX-License-Identifier: Apache-2.0
// examples/24_bank_transaction.cpp: the guide's real-life table, "Bank transaction: Lock".
//
//   import threading
//
//   class Account:
//       def __init__(self, balance):
//           self.balance = balance
//           self.lock = threading.Lock()
//
//   def transfer(src, dst, amount):
//       first, second = sorted((src, dst), key=id)   # one global order: no deadlock
//       with first.lock, second.lock:
//           if src.balance >= amount:
//               src.balance -= amount
//               dst.balance += amount
//
//   alice, bob = Account(100), Account(100)
//
//   def pay(src, dst):
//       for _ in range(10000):
//           transfer(src, dst, 1)
//
//   t1 = threading.Thread(target=pay, args=(alice, bob))
//   t2 = threading.Thread(target=pay, args=(bob, alice))
//   t1.start(); t2.start()
//   t1.join(); t2.join()
//
//   print("total:", alice.balance + bob.balance)   # always 200
//
// std::scoped_lock(a, b) takes both locks without deadlock whatever the order of its
// arguments (std::lock's try-and-back-off), so no sorting is needed.
#include <cstdio>
#include <mutex>
#include <weft/threading.hpp>

struct Account {
  explicit Account(int b) : balance(b) {}
  int balance;
  weft::Lock lock;
};

void transfer(Account& src, Account& dst, int amount) {
  std::scoped_lock hold(src.lock, dst.lock);  // both, in a deadlock-free way
  if (src.balance >= amount) {
    src.balance -= amount;
    dst.balance += amount;
  }
}

Account alice(100), bob(100);

void pay(Account* src, Account* dst) {
  for (int i = 0; i < 10000; ++i) transfer(*src, *dst, 1);
}

int main() {
  weft::Thread t1(pay, &alice, &bob);
  weft::Thread t2(pay, &bob, &alice);
  t1.start();
  t2.start();
  t1.join();
  t2.join();

  std::printf("total: %d\n", alice.balance + bob.balance);  // always 200
}
