// SPDX-License-Identifier: Apache-2.0
// WordLock: a small, uninstrumented lock on top of L0 for weft's own internals.
//
// Protects the parking lot's buckets and the debug tools' tables, which must not use
// the instrumented primitives they serve. Not fair; spins briefly, then waits in L0.
// A capability for clang's -Wthread-safety: the members it protects are declared
// WEFT_GUARDED_BY(that lock).
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/detail/backoff.hpp"
#include "weft/detail/config.hpp"
#include "weft/detail/thread_safety.hpp"
#include "weft/detail/wait.hpp"

namespace weft::detail {

class WEFT_CAPABILITY("mutex") WordLock {
 public:
  constexpr WordLock() noexcept = default;
  WordLock(const WordLock&) = delete;
  WordLock& operator=(const WordLock&) = delete;

  void lock() noexcept WEFT_ACQUIRE() WEFT_NO_THREAD_SAFETY_ANALYSIS {
    std::uint32_t expected = kUnlocked;
    if (WEFT_LIKELY(state_.compare_exchange_weak(expected, kLocked, std::memory_order_acquire,
                                                 std::memory_order_relaxed)))
      return;
    lock_slow();
  }

  void unlock() noexcept WEFT_RELEASE() WEFT_NO_THREAD_SAFETY_ANALYSIS {
    // (W1) release: pairs with the acquire in lock(). If someone may be waiting, wake one.
    if (state_.exchange(kUnlocked, std::memory_order_release) == kContended)
      wake_by_address(state_, false);
  }

 private:
  static constexpr std::uint32_t kUnlocked = 0, kLocked = 1, kContended = 2;

  void lock_slow() noexcept {
    Backoff backoff;
    while (backoff.spin()) {
      std::uint32_t expected = kUnlocked;
      if (state_.load(std::memory_order_relaxed) == kUnlocked &&
          state_.compare_exchange_weak(expected, kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed))
        return;
    }
    // Announce a waiter; whoever unlocks next sees kContended and wakes one of us.
    while (state_.exchange(kContended, std::memory_order_acquire) != kUnlocked)
      wait_on_address(state_, kContended, kForever);
  }

  std::atomic<std::uint32_t> state_{kUnlocked};
};

class WEFT_SCOPED_CAPABILITY WordLockGuard {
 public:
  explicit WordLockGuard(WordLock& lock) noexcept WEFT_ACQUIRE(lock) WEFT_NO_THREAD_SAFETY_ANALYSIS
      : lock_(lock) {
    lock_.lock();
  }
  ~WordLockGuard() WEFT_RELEASE() WEFT_NO_THREAD_SAFETY_ANALYSIS { lock_.unlock(); }
  WordLockGuard(const WordLockGuard&) = delete;
  WordLockGuard& operator=(const WordLockGuard&) = delete;

 private:
  WordLock& lock_;
};

}  // namespace weft::detail
