// SPDX-License-Identifier: Apache-2.0
// weft/lock.hpp: Lock, the primitive mutual-exclusion lock.     (Python: threading.Lock)
//
// Part of <weft/threading.hpp>. Design: docs/design.md (L2 primitives).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "weft/detail/config.hpp"
#include "weft/detail/timed_lockable.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/lock_algorithm.hpp"
#include "weft/detail/thread_safety.hpp"

namespace weft {

class Condition;

/// Lock: a non-recursive lock that any thread may release.      (Python: threading.Lock)
///
/// State: unlocked or locked. acquire() takes an unlocked lock; release() unlocks a
/// locked one, whichever thread calls it (Python allows a different thread to release).
///
///   state \ call | acquire()                 | release()
///   unlocked     | -> locked, returns true   | RuntimeError
///   locked       | blocks until unlocked     | -> unlocked, may wake one waiter
///
/// Guarantees
///   Memory:   for any threads X and Y, everything X did before X calls release() is
///             visible to Y once Y's next acquire() of this lock returns true.
///   A failed try (acquire(false), acquire(0s)) has no effect.
/// Fairness: waiters are queued FIFO, but a running thread may barge in ahead of a
///   woken one. About once per millisecond of contention release() hands the lock
///   directly to the longest waiter, so no waiter starves.
/// Blocking: acquire() and acquire(timeout) block; acquire(false) and any zero or
///   negative timeout never block. A timed acquire fails only after the timeout.
///   A blocked acquire that is interrupted (<weft/cancel.hpp>) holds nothing and throws.
/// Cost:     uncontended acquire and release are one compare-and-swap each, inline, with
///           no system call; release() calls into the parking lot only when a thread is
///           parked. sizeof(Lock) == 2. Spins briefly (bounded) before parking.
/// Lifetime: may be destroyed once it is unlocked and no thread is inside a member.
///           All members may be called concurrently.
/// Invalid:  release() of an unlocked lock throws RuntimeError. Relocking a Lock held
///           by the same thread blocks forever (it is not re-entrant; use RLock).
/// TSan:     not annotated as a mutex: TSan's mutex annotations report a release by a
///           thread other than the acquirer ("unlock by a wrong thread"), which Lock
///           allows. Its acquire/release atomics already give TSan the happens-before.
/// Clang:    a capability ("mutex") for -Wthread-safety: members declared
///           WEFT_GUARDED_BY(lock) are checked to be used only with the lock held.
///
///   weft::Lock lock;
///   { std::scoped_lock hold(lock); ++counter; }   // Python: with lock: counter += 1
class WEFT_CAPABILITY("mutex") Lock : public detail::TimedLockable<Lock> {
 public:
  explicit Lock(std::string_view name = {});
  ~Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  /// Acquires the lock; with blocking == false, only tries.
  /// Returns: true if acquired. Throws: LockOrderError in lock-order throw mode.
  bool acquire(bool blocking = true, detail::SourceLoc loc = detail::SourceLoc::current())
      WEFT_TRY_ACQUIRE(true) WEFT_NO_THREAD_SAFETY_ANALYSIS {
    if (WEFT_LIKELY(!detail::debug_on()) && Algorithm::try_lock_fast(state_)) return true;
    return acquire_slow(blocking ? detail::kForever : detail::kImmediate, loc);
  }

  /// Acquires the lock, waiting at most `timeout` (zero or negative: one try; the
  /// conversion saturates, see detail/deadline.hpp). Throws: ValueError for NaN.
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout,
               detail::SourceLoc loc = detail::SourceLoc::current())
      WEFT_TRY_ACQUIRE(true) WEFT_NO_THREAD_SAFETY_ANALYSIS {
    detail::check_timeout(timeout);
    if (WEFT_LIKELY(!detail::debug_on()) && Algorithm::try_lock_fast(state_)) return true;
    return acquire_slow(detail::deadline_after(timeout), loc);
  }

  /// Releases the lock. Any thread may call it. Wakes: one waiter, if any.
  /// Throws: RuntimeError if the lock is not locked.
  void release() WEFT_RELEASE() WEFT_NO_THREAD_SAFETY_ANALYSIS {
    if (WEFT_LIKELY(!detail::debug_on()) && WEFT_LIKELY(Algorithm::unlock_fast(state_))) return;
    release_slow();
  }

  /// True if some thread holds the lock (a snapshot).
  bool locked() const noexcept { return Algorithm::is_held(state_); }

  // C++ TimedLockable (lock, unlock, try_lock, try_lock_for, try_lock_until): inherited
  // from detail::TimedLockable.

  /// Names the lock in debug reports and traces (not concurrent with other members).
  void set_name(std::string_view name);

  // The protocol Condition uses to release a lock while it waits (CPython's names).
  using SavedState = bool;
  SavedState release_save() WEFT_RELEASE() {
    release();
    return true;
  }
  // acquire_restore() cannot be interrupted: Condition::wait must get its lock back.
  void acquire_restore(SavedState, detail::SourceLoc loc = detail::SourceLoc::current())
      WEFT_ACQUIRE() WEFT_NO_THREAD_SAFETY_ANALYSIS {
    if (WEFT_LIKELY(!detail::debug_on()) && Algorithm::try_lock_fast(state_)) return;
    acquire_slow(detail::kForever, loc, /*interruptible=*/false);
  }
  bool is_owned() const noexcept { return locked(); }

 private:
  friend struct LockAccess;
  friend class Condition;  // requeues its waiters onto state_ (see condition.cpp)
  friend class detail::TimedLockable<Lock>;
  // The lock word: weft's one lock algorithm (detail/lock_algorithm.hpp).
  using Algorithm = detail::ByteLockAlgorithm;
  struct Hooks;                               // what Lock adds to it (lock.cpp)

  bool acquire_until(detail::Deadline deadline, detail::SourceLoc loc)
      WEFT_TRY_ACQUIRE(true) WEFT_NO_THREAD_SAFETY_ANALYSIS {
    if (WEFT_LIKELY(!detail::debug_on()) && Algorithm::try_lock_fast(state_)) return true;
    return acquire_slow(deadline, loc);
  }
  // Condition: the calling thread was handed this lock by a release (it is held already).
  void adopt_handoff(SavedState saved, detail::SourceLoc loc) noexcept WEFT_ACQUIRE();

  // The analysis cannot follow a lock word: the slow paths are checked by tests instead.
  WEFT_NOINLINE bool acquire_slow(detail::Deadline deadline, detail::SourceLoc loc,
                                  bool interruptible = true)
      WEFT_TRY_ACQUIRE(true) WEFT_NO_THREAD_SAFETY_ANALYSIS;
  WEFT_NOINLINE void release_slow() WEFT_RELEASE() WEFT_NO_THREAD_SAFETY_ANALYSIS;

  Algorithm::Atomic state_{0};
  std::uint8_t flags_ = 0;  // 1: named (hooks::name_object)
};

static_assert(sizeof(Lock) <= 4, "Lock must stay a few bytes");

namespace detail {

// A Lock for weft's own short critical sections (a queue's, a future's, an executor's).
// Its blocking acquisitions cannot be interrupted (#13): code that restores an object's
// invariants after a wait, or runs noexcept, never gets an interruption from it. Callers
// must use it through this type (Lock's members are not virtual). The debug tools see a
// Lock.
class WEFT_CAPABILITY("mutex") InternalLock : public Lock {
 public:
  using Lock::Lock;
  bool acquire(bool blocking = true, SourceLoc loc = SourceLoc::current())
      WEFT_TRY_ACQUIRE(true) WEFT_NO_THREAD_SAFETY_ANALYSIS {
    if (!blocking) return Lock::acquire(false, loc);
    acquire_restore(true, loc);
    return true;
  }
  void release() WEFT_RELEASE() WEFT_NO_THREAD_SAFETY_ANALYSIS { Lock::release(); }
  void lock(SourceLoc loc = SourceLoc::current()) WEFT_ACQUIRE() WEFT_NO_THREAD_SAFETY_ANALYSIS {
    acquire_restore(true, loc);
  }
  void unlock() WEFT_RELEASE() WEFT_NO_THREAD_SAFETY_ANALYSIS { Lock::release(); }
  bool try_lock(SourceLoc loc = SourceLoc::current())
      WEFT_TRY_ACQUIRE(true) WEFT_NO_THREAD_SAFETY_ANALYSIS {
    return Lock::acquire(false, loc);
  }
};

}  // namespace detail

}  // namespace weft
