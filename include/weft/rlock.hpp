// SPDX-License-Identifier: Apache-2.0
// weft/rlock.hpp: RLock, the re-entrant lock.                    (Python: threading.RLock)
//
// Part of <weft/threading.hpp>. Lock's algorithm on the same kind of lock word
// (detail/lock_algorithm.hpp), plus an owner and a recursion count.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "weft/detail/config.hpp"
#include "weft/detail/timed_lockable.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/lock_algorithm.hpp"
#include "weft/detail/tsan.hpp"

namespace weft {

class Condition;

namespace detail {
std::uint64_t current_ident() noexcept;  // defined with the parking lot
}

/// RLock: a lock that the thread holding it may acquire again.  (Python: threading.RLock)
///
/// State: unowned, or owned by one thread with a recursion count >= 1. The owner's
/// acquire() adds one level; its release() removes one and unlocks at zero.
///
///   state \ call        | acquire() by owner | acquire() by other | release() by owner | by other
///   unowned             | n/a                | -> owned, count 1  | n/a                | RuntimeError
///   owned, count c      | count c+1          | blocks             | c-1; at 0 unowned  | RuntimeError
///
/// Guarantees
///   Memory:   for any threads X and Y, everything X did before its final release() (the
///             one that unowns the lock) is visible to Y once Y's next acquire() that
///             takes ownership returns true. Re-entrant acquires synchronise with nothing.
///   A failed try (acquire(false), acquire(0s)) has no effect.
/// Fairness: as Lock: FIFO queue with barging, and about once per millisecond of
///   contention the final release() hands the lock to the longest waiter.
/// Blocking: acquire() and acquire(timeout) block unless the caller owns the lock (then
///   they return true at once); acquire(false) and zero or negative timeouts never block.
/// Cost:     acquire/release by the owner touch only the count; a first acquire and a
///           final release are one compare-and-swap each, with no system call unless a
///           thread is parked. sizeof(RLock) == 16.
/// Lifetime: may be destroyed once unowned and no thread is inside a member. All members
///           may be called concurrently.
/// Invalid:  release() by a thread that does not own the lock throws RuntimeError
///           ("cannot release un-acquired lock"). More than 2^32-1 levels: RuntimeError.
///
///   weft::RLock lock;  int total = 0;
///   auto add = [&](int x) { std::scoped_lock hold(lock); total += x; };
///   auto add_twice = [&](int x) { std::scoped_lock hold(lock); add(x); add(x); };  // re-enters
///   add_twice(21);
class RLock : public detail::TimedLockable<RLock> {
 public:
  explicit RLock(std::string_view name = {});
  ~RLock();
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;

  /// Acquires the lock (one more level if the caller owns it); blocking == false only tries.
  /// Returns: true if acquired. Throws: LockOrderError in lock-order throw mode.
  bool acquire(bool blocking = true, detail::SourceLoc loc = detail::SourceLoc::current()) {
    const std::uint64_t me = detail::current_ident();
    if (owner_.load(std::memory_order_relaxed) == me) return reenter();
    if (WEFT_LIKELY(kFastPath && !detail::debug_on()) && Algorithm::try_lock_fast(state_))
      return own(me);
    return acquire_slow(blocking ? detail::kForever : detail::kImmediate, loc, me);
  }

  /// Acquires the lock, waiting at most `timeout` (zero or negative: one try; the
  /// conversion saturates, see detail/deadline.hpp). Throws: ValueError for NaN.
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout,
               detail::SourceLoc loc = detail::SourceLoc::current()) {
    detail::check_timeout(timeout);
    const std::uint64_t me = detail::current_ident();
    if (owner_.load(std::memory_order_relaxed) == me) return reenter();
    if (WEFT_LIKELY(kFastPath && !detail::debug_on()) && Algorithm::try_lock_fast(state_))
      return own(me);
    return acquire_slow(detail::deadline_after(timeout), loc, me);
  }

  /// Releases one level; the last level unlocks and wakes one waiter, if any.
  /// Throws: RuntimeError if the calling thread does not own the lock.
  void release() {
    if (owner_.load(std::memory_order_relaxed) != detail::current_ident()) not_owner();
    if (--count_ != 0) return;
    owner_.store(0, std::memory_order_relaxed);
    if (WEFT_LIKELY(kFastPath && !detail::debug_on()) && WEFT_LIKELY(Algorithm::unlock_fast(state_)))
      return;
    unlock_slow();
  }

  /// True if some thread owns the lock (a snapshot).
  bool locked() const noexcept { return Algorithm::is_held(state_); }

  // C++ TimedLockable (lock, unlock, try_lock, try_lock_for, try_lock_until): inherited
  // from detail::TimedLockable.

  /// Names the lock in debug reports and traces (not concurrent with other members).
  void set_name(std::string_view name);

  // The protocol Condition uses to release every level while it waits (CPython's names).
  // release_save(): unowns the lock whatever its count; RuntimeError if not the owner.
  // acquire_restore(): blocks until owned again, with the saved count; cannot be
  // interrupted (Condition::wait must get its lock back).
  using SavedState = std::uint32_t;
  SavedState release_save();
  void acquire_restore(SavedState saved, detail::SourceLoc loc = detail::SourceLoc::current());
  /// True if the calling thread owns the lock.
  bool is_owned() const noexcept {
    return owner_.load(std::memory_order_relaxed) == detail::current_ident();
  }

 private:
  friend class Condition;  // requeues its waiters onto state_ (see condition.cpp)
  friend class detail::TimedLockable<RLock>;
  // The lock word: weft's one lock algorithm (detail/lock_algorithm.hpp).
  using Algorithm = detail::ByteLockAlgorithm;
  struct Hooks;                               // what RLock adds to it (rlock.cpp)
#if defined(WEFT_TSAN)
  static constexpr bool kFastPath = false;  // the slow path carries the TSan annotations
#else
  static constexpr bool kFastPath = true;
#endif

  bool own(std::uint64_t me) noexcept {
    owner_.store(me, std::memory_order_relaxed);
    count_ = 1;
    return true;
  }
  bool reenter() {
    if (WEFT_UNLIKELY(count_ == UINT32_MAX)) too_deep();
    ++count_;
    return true;
  }
  bool acquire_until(detail::Deadline deadline, detail::SourceLoc loc) {
    const std::uint64_t me = detail::current_ident();
    if (owner_.load(std::memory_order_relaxed) == me) return reenter();
    if (WEFT_LIKELY(kFastPath && !detail::debug_on()) && Algorithm::try_lock_fast(state_))
      return own(me);
    return acquire_slow(deadline, loc, me);
  }
  // Condition: the calling thread was handed this lock by a release (the word is held
  // already); it becomes the owner with `saved` levels.
  void adopt_handoff(SavedState saved, detail::SourceLoc loc) noexcept;
  WEFT_NOINLINE bool acquire_slow(detail::Deadline deadline, detail::SourceLoc loc,
                                  std::uint64_t me, bool interruptible = true);
  WEFT_NOINLINE void unlock_slow();
  [[noreturn]] WEFT_COLD static void not_owner();
  [[noreturn]] WEFT_COLD static void too_deep();

  Algorithm::Atomic state_{0};
  std::uint8_t flags_ = 0;  // 1: named (hooks::name_object)
  std::uint32_t count_ = 0;           // levels held; written only by the owner
  std::atomic<std::uint64_t> owner_{0};  // current_ident() of the owner, 0 when unowned
};

}  // namespace weft
