// SPDX-License-Identifier: Apache-2.0
// weft/condition.hpp: Condition, a condition variable bound to a lock.
//                                                            (Python: threading.Condition)
// Part of <weft/threading.hpp>. Waiters queue in the parking lot; notify_all() moves them
// onto the lock's queue instead of waking them all. Slow paths: src/threading/condition.cpp.
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
#include "weft/detail/thread_safety.hpp"
#include "weft/lock.hpp"
#include "weft/rlock.hpp"

namespace weft {

/// Condition: lets threads wait, with a lock held, until another thread notifies them.
///                                                            (Python: threading.Condition)
///
/// State: the lock (an RLock it owns, or a Lock / RLock given to the constructor) and the
/// queue of waiting threads. wait() joins the queue and releases the lock (every level of
/// an RLock), notify(n) takes up to n threads off the queue, and each of them returns from
/// wait() once it holds the lock again (at its former RLock level).
///
/// Guarantees
///   Memory:   for any threads X and Y, everything X did while holding the lock before
///             notify() is visible to Y once Y's wait() returns (via the lock).
///   No lost wake-up: a thread that called wait() before notify() started is on the
///   queue when notify() runs. A notify() with no waiter is not remembered.
///   No spurious wake-ups: wait() returns true / returns from wait() only when notified;
///   wait(timeout) returns false only when its timeout expired un-notified.
/// Fairness: notify() wakes waiters in FIFO order of their wait() calls. notify_all()
///   (and notify(n) for n >= the number of waiters) requeues the waiters onto the lock,
///   so they reacquire it one at a time instead of all racing for it.
/// Blocking: wait() blocks until notified, then until the lock is reacquired;
///   wait(timeout) gives up on the notification after `timeout` (zero or negative: at
///   once, after releasing and reacquiring the lock) and then still blocks to
///   reacquire the lock.
///   notify() never blocks.
/// Cost:     notify() with no waiter is one load and no system call. sizeof(Condition)
///           == 40 (it embeds the RLock of the default constructor).
/// Lifetime: may be destroyed once no thread is inside a member. The lock passed to the
///           constructor must outlive the Condition.
/// Invalid:  wait() and notify() without the lock throw RuntimeError ("cannot wait on
///           un-acquired lock" / "cannot notify on un-acquired lock"). With a Lock,
///           "held" means locked by any thread, as in Python; if another thread releases
///           that Lock while a thread enters wait(), that wait() throws RuntimeError once
///           it is notified or times out.
///
///   weft::Condition cv;  std::deque<int> items;
///   { std::scoped_lock hold(cv); items.push_back(1); cv.notify(); }      // producer
///   { std::scoped_lock hold(cv); cv.wait_for([&] { return !items.empty(); }); }
class Condition : public detail::TimedLockable<Condition> {
 public:
  explicit Condition(std::string_view name = {});
  explicit Condition(Lock& lock, std::string_view name = {});
  explicit Condition(RLock& lock, std::string_view name = {});
  ~Condition();
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // The lock's own members (Python: acquire / release / __enter__ / __exit__). They
  // forward to a Lock or an RLock, which clang's -Wthread-safety cannot tell apart.
  bool acquire(bool blocking = true, detail::SourceLoc loc = detail::SourceLoc::current())
      WEFT_NO_THREAD_SAFETY_ANALYSIS {
    return lock_ != nullptr ? lock_->acquire(blocking, loc) : rlock_->acquire(blocking, loc);
  }
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout,
               detail::SourceLoc loc = detail::SourceLoc::current()) WEFT_NO_THREAD_SAFETY_ANALYSIS {
    return lock_ != nullptr ? lock_->acquire(timeout, loc) : rlock_->acquire(timeout, loc);
  }
  void release() WEFT_NO_THREAD_SAFETY_ANALYSIS { lock_ != nullptr ? lock_->release() : rlock_->release(); }
  // C++ TimedLockable (lock, unlock, try_lock, try_lock_for, try_lock_until): inherited
  // from detail::TimedLockable.

  /// Releases the lock, blocks until notified, reacquires the lock.
  /// Throws: RuntimeError if the lock is not held.
  void wait(detail::SourceLoc loc = detail::SourceLoc::current()) {
    wait_until(detail::kForever, loc);
  }

  /// As wait(), giving up on the notification after `timeout`.
  /// Returns: true if notified, false if the timeout expired.
  /// Throws: ValueError for a NaN timeout (before releasing the lock).
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout,
            detail::SourceLoc loc = detail::SourceLoc::current()) {
    return wait_until(detail::deadline_after(timeout), loc);
  }

  /// Waits until pred() is true (pred is called with the lock held).  Returns: pred().
  template <class Pred>
  bool wait_for(Pred pred, detail::SourceLoc loc = detail::SourceLoc::current()) {
    bool result = pred();
    while (!result) {
      wait_until(detail::kForever, loc);
      result = pred();
    }
    return result;
  }

  /// Waits until pred() is true or `timeout` passed.  Returns: the last pred() value.
  /// Throws: ValueError for a NaN timeout (before calling pred).
  template <class Pred, class Rep, class Period>
  bool wait_for(Pred pred, std::chrono::duration<Rep, Period> timeout,
                detail::SourceLoc loc = detail::SourceLoc::current()) {
    const detail::Deadline deadline = detail::deadline_after(timeout);
    bool result = pred();
    while (!result) {
      if (deadline == detail::kImmediate ||
          (deadline != detail::kForever && detail::Clock::now() >= deadline))
        break;
      wait_until(deadline, loc);
      result = pred();
    }
    return result;
  }

  /// Wakes up to n threads waiting on this condition (none: nothing happens).
  /// Throws: RuntimeError if the lock is not held.
  void notify(std::size_t n = 1) {
    if (!is_owned()) not_owned("cannot notify on un-acquired lock");
    if (n == 0 || waiters_.load(std::memory_order_relaxed) == 0) return;  // (C2)
    notify_slow(n);
  }

  /// Wakes every thread waiting on this condition.
  /// Throws: RuntimeError if the lock is not held.
  void notify_all() { notify(static_cast<std::size_t>(-1)); }

  /// Names the condition in debug reports and traces (not concurrent with other members).
  void set_name(std::string_view name);

 private:
  friend class detail::TimedLockable<Condition>;
  bool acquire_until(detail::Deadline deadline, detail::SourceLoc loc) WEFT_NO_THREAD_SAFETY_ANALYSIS {
    return lock_ != nullptr ? lock_->acquire_until(deadline, loc)
                            : rlock_->acquire_until(deadline, loc);
  }

  bool is_owned() const noexcept {
    return lock_ != nullptr ? lock_->is_owned() : rlock_->is_owned();
  }
  // Releases the lock while parked and reacquires it (C1), through callbacks.
  bool wait_until(detail::Deadline deadline, detail::SourceLoc loc) WEFT_NO_THREAD_SAFETY_ANALYSIS;
  void notify_slow(std::size_t n);
  // The word of the lock (Lock or RLock): the key its waiters park on (C3).
  detail::ByteLockAlgorithm::Atomic& lock_word() const noexcept;
  [[noreturn]] WEFT_COLD static void not_owned(const char* what);

  RLock own_;               // the lock of the default constructor
  Lock* lock_ = nullptr;    // exactly one of lock_ / rlock_ is set
  RLock* rlock_ = nullptr;
  std::atomic<std::uint32_t> waiters_{0};  // threads parked on &waiters_ (may over-count)
  std::uint8_t flags_ = 0;                 // 1: named
};

}  // namespace weft
