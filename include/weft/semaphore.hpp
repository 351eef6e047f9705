// SPDX-License-Identifier: Apache-2.0
// weft/semaphore.hpp: Semaphore and BoundedSemaphore.   (Python: threading.Semaphore, ...)
//
// Part of <weft/threading.hpp>. A counter plus a count of parked acquirers; the waiters
// queue in the parking lot. Slow paths: src/threading/semaphore.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "weft/detail/config.hpp"
#include "weft/detail/timed_lockable.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/hooks.hpp"

namespace weft {

/// Semaphore: a counter of permits; acquire() takes one, release() gives back.
///                                                          (Python: threading.Semaphore)
///
/// State: value >= 0 (initially `value`, default 1). acquire() decrements it, blocking
/// while it is 0; release(n) adds n and wakes up to n blocked acquirers.
///
/// Guarantees
///   Memory:   for any threads X and Y, everything X did before release() is visible to
///             Y once Y's acquire() that took one of the released permits returns true.
///   The value never goes below 0; a failed try (acquire(false), acquire(0s)) has no
///   effect; release(n) wakes no more than n waiters and wakes no waiter needlessly
///   when no thread is parked.
/// Fairness: blocked acquirers are woken in FIFO order, but a running thread may take a
///   permit first (barging); a woken thread that finds no permit parks again at the tail.
/// Blocking: acquire() and acquire(timeout) block while the value is 0; acquire(false)
///   and zero or negative timeouts never block. release() never blocks.
/// Cost:     acquire with a permit available and release with no waiter are one atomic
///           RMW each, inline, with no system call. sizeof(Semaphore) == 24.
/// Lifetime: may be destroyed once no thread is inside a member. All members may be
///           called concurrently. Acquisitions are not lock-order edges for the debug
///           tools (any thread may release a permit).
/// Invalid:  Semaphore(value < 0) and release(0) throw ValueError; a release that would
///           overflow the counter throws ValueError.
///
///   weft::Semaphore slots(3);                       // at most 3 downloads at once
///   auto download = [&](int id) { std::scoped_lock hold(slots); return id; };
///   download(1);
class Semaphore : public detail::TimedLockable<Semaphore> {
 public:
  explicit Semaphore(std::ptrdiff_t value = 1, std::string_view name = {});
  ~Semaphore();
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  /// Takes one permit; with blocking == false, only tries.  Returns: true if taken.
  bool acquire(bool blocking = true, detail::SourceLoc loc = detail::SourceLoc::current()) {
    if (WEFT_LIKELY(try_fast())) return true;
    return acquire_slow(blocking ? detail::kForever : detail::kImmediate, loc);
  }

  /// Takes one permit, waiting at most `timeout` (zero or negative: one try; the
  /// conversion saturates, see detail/deadline.hpp). Throws: ValueError for NaN.
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout,
               detail::SourceLoc loc = detail::SourceLoc::current()) {
    detail::check_timeout(timeout);
    if (WEFT_LIKELY(try_fast())) return true;
    return acquire_slow(detail::deadline_after(timeout), loc);
  }

  /// Gives back n permits. Wakes: up to n blocked acquirers.
  /// Throws: ValueError if n == 0; BoundedSemaphore: ValueError if the value would
  /// exceed the initial value (the value is then unchanged).
  void release(std::size_t n = 1);

  // C++ TimedLockable (lock, unlock, try_lock, try_lock_for, try_lock_until): inherited
  // from detail::TimedLockable.

  /// Names the semaphore in debug reports and traces (not concurrent with other members).
  void set_name(std::string_view name);

 protected:
  // BoundedSemaphore: release() may not raise the value above `bound`.
  Semaphore(std::ptrdiff_t value, std::ptrdiff_t bound, std::string_view name);

 private:
  friend class detail::TimedLockable<Semaphore>;
  bool acquire_until(detail::Deadline deadline, detail::SourceLoc loc) {
    if (WEFT_LIKELY(try_fast())) return true;
    return acquire_slow(deadline, loc);
  }

  bool try_fast() noexcept {
    std::ptrdiff_t v = value_.load(std::memory_order_relaxed);
    // (S1) acquire: pairs with (S2) in release().
    return v > 0 && value_.compare_exchange_weak(v, v - 1, std::memory_order_acquire,
                                                 std::memory_order_relaxed);
  }
  WEFT_NOINLINE bool acquire_slow(detail::Deadline deadline, detail::SourceLoc loc);

  std::atomic<std::ptrdiff_t> value_;
  std::atomic<std::uint32_t> parked_{0};  // threads parked or about to park on &value_
  std::uint8_t flags_ = 0;                // 1: named
  std::ptrdiff_t bound_;                  // the largest value release() may reach
};

/// BoundedSemaphore: a Semaphore whose value may not exceed its initial value.
///                                                   (Python: threading.BoundedSemaphore)
///
/// State, guarantees, fairness, blocking, cost, lifetime: as Semaphore.
/// Invalid:  as Semaphore, plus: a release() that would take the value above the initial
///           value throws ValueError("Semaphore released too many times") and leaves the
///           value unchanged (it usually means a permit was released twice).
///
///   weft::BoundedSemaphore pool(2);
///   pool.acquire(); pool.release();
///   // pool.release();  // would throw ValueError: released too many times
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::ptrdiff_t value = 1, std::string_view name = {})
      : Semaphore(value, value, name) {}
};

}  // namespace weft
