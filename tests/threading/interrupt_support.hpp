// SPDX-License-Identifier: Apache-2.0
// Helpers for the tests of blocking calls cut short by an interrupt (detail::interrupt_thread
// with kInterruptStop, what a stop request on a live CancelScope delivers). BlockedCall,
// Outcome and interrupt_blocked() live in support/blocking.hpp (included here).
//
// StartGate releases a fixed number of threads at the same moment; race() runs two
// actions released together, one on the calling thread (an unparker and an interrupt aimed at the
// same waiter). ScopeDeadline sets the calling thread's scope deadline for a scope.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "support/blocking.hpp"
#include "support/scope_exit.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::testing {

// Releases `n` threads together: each calls arrive_and_wait().
class StartGate {
 public:
  explicit StartGate(int n) : n_(n) {}
  void arrive_and_wait() {
    arrived_.fetch_add(1);
    for (unsigned spins = 0; arrived_.load() < n_; ++spins)
      if (spins % 1024 == 1023) std::this_thread::yield();
  }

 private:
  const int n_;
  std::atomic<int> arrived_{0};
};

// The calling thread's scope deadline (what a Timeout sets), cleared on every exit.
struct ScopeDeadline {
  explicit ScopeDeadline(weft::detail::Deadline d) { weft::detail::set_scope_deadline(d); }
  ~ScopeDeadline() { weft::detail::set_scope_deadline(weft::detail::kForever); }
  ScopeDeadline(const ScopeDeadline&) = delete;
  ScopeDeadline& operator=(const ScopeDeadline&) = delete;
};

// Runs a() on the calling thread and b() on another, released together; returns when
// both are done.
inline void race(const std::function<void()>& a, const std::function<void()>& b) {
  StartGate gate(2);
  std::thread other([&] {
    gate.arrive_and_wait();
    b();
  });
  gate.arrive_and_wait();
  a();
  other.join();
}

}  // namespace weft::testing
