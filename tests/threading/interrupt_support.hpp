// SPDX-License-Identifier: Apache-2.0
// Helpers for the tests of blocking calls cut short by an interrupt (detail::interrupt_thread
// with kInterruptStop, what a stop request on a live CancelScope delivers).
//
// BlockedCall runs one call on its own thread and records how it ended: returned,
// CancelledError, or another exception. A test waits until the thread is parked (no
// sleep), interrupts it and joins it; join() is bounded by a rescue that must make the
// call return (release what it waits for), so a broken call fails the test instead of
// hanging it. The thread clears its stop reason before it ends.
//
// StartGate releases a fixed number of threads at the same moment; race() runs two
// actions released together, one on the calling thread (an unparker and an interrupt aimed at the
// same waiter).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <thread>
#include <utility>

#include "support/blocking.hpp"
#include "support/scope_exit.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/thread_record_ref.hpp"
#include "weft/errors.hpp"

namespace weft::testing {

enum class Outcome { kRunning, kReturned, kCancelled, kOtherError };

inline const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::kRunning: return "running";
    case Outcome::kReturned: return "returned";
    case Outcome::kCancelled: return "CancelledError";
    case Outcome::kOtherError: return "another exception";
  }
  return "?";
}

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

class BlockedCall {
 public:
  // Starts `call` at once on a new thread. `rescue` must make a still blocked call return
  // (empty: interrupt the call's thread again).
  explicit BlockedCall(std::function<void()> call, std::function<void()> rescue = {})
      : rescue_(rescue ? std::move(rescue) : [this] { interrupt(); }), thread_([this, call = std::move(call)] {
          // interrupt() needs the thread's record alive, also after the thread ended.
          record_ = weft::detail::RecordRef(&weft::detail::current_thread_data());
          data_.store(record_.get(), std::memory_order_release);
          try {
            call();
            outcome_.store(Outcome::kReturned);
          } catch (const weft::CancelledError&) {
            outcome_.store(Outcome::kCancelled);
          } catch (...) {
            error_ = std::current_exception();
            outcome_.store(Outcome::kOtherError);
          }
          weft::detail::clear_interrupts(weft::detail::kInterruptStop);
        }) {
    while (data_.load(std::memory_order_acquire) == nullptr) std::this_thread::yield();
    ident_ = ident_of(thread_);
  }
  ~BlockedCall() {
    if (thread_.joinable()) join();
  }
  BlockedCall(const BlockedCall&) = delete;
  BlockedCall& operator=(const BlockedCall&) = delete;

  // Waits until the call is parked in the parking lot; false after 60 s.
  [[nodiscard]] bool wait_parked() const { return wait_until_parked(ident_); }
  // Delivers a stop request to the call's thread (it may be parked or about to park).
  void interrupt() const {
    weft::detail::interrupt_thread(*data_.load(std::memory_order_acquire),
                                   weft::detail::kInterruptStop);
  }
  // Joins the thread (rescued after 20 s) and returns how the call ended.
  Outcome join() {
    rescued_ = run_with_rescue([&] { thread_.join(); }, rescue_);
    return outcome_.load();
  }
  bool rescued() const { return rescued_; }
  std::exception_ptr error() const { return error_; }

 private:
  static std::uint64_t ident_of(std::thread& t) {
    return static_cast<std::uint64_t>(t.native_handle());
  }

  std::function<void()> rescue_;
  weft::detail::RecordRef record_;  // written by the thread before data_
  std::atomic<weft::detail::ThreadData*> data_{nullptr};
  std::atomic<Outcome> outcome_{Outcome::kRunning};
  std::exception_ptr error_;
  bool rescued_ = false;
  std::uint64_t ident_ = 0;
  std::thread thread_;
};

// The calling thread's scope deadline (what a Timeout sets), cleared on every exit.
struct ScopeDeadline {
  explicit ScopeDeadline(weft::detail::Deadline d) { weft::detail::set_scope_deadline(d); }
  ~ScopeDeadline() { weft::detail::set_scope_deadline(weft::detail::kForever); }
  ScopeDeadline(const ScopeDeadline&) = delete;
  ScopeDeadline& operator=(const ScopeDeadline&) = delete;
};

// Starts `call` on a thread, waits until it parks, interrupts it and returns how it ended.
inline Outcome interrupt_blocked(std::function<void()> call, std::function<void()> rescue = {}) {
  BlockedCall blocked(std::move(call), std::move(rescue));
  EXPECT_TRUE(blocked.wait_parked()) << "the call never parked";
  blocked.interrupt();
  const Outcome o = blocked.join();
  EXPECT_FALSE(blocked.rescued()) << "the interrupt did not end the call";
  return o;
}

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
