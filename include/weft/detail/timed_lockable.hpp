// SPDX-License-Identifier: Apache-2.0
// weft/detail/timed_lockable.hpp: the C++ TimedLockable members of Lock, RLock,
// Semaphore and Condition, written once in terms of their Python-named members.
#pragma once

#include <chrono>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/thread_safety.hpp"

namespace weft::detail {

// CRTP base. Derived provides acquire(bool blocking, SourceLoc), acquire(duration,
// SourceLoc) (zero or negative: one try), acquire_until(Deadline, SourceLoc) (a
// deadline that passed: one try; may be private with this base a friend) and release().
// This adds lock(), unlock(), try_lock(), try_lock_for() and try_lock_until(), so
// std::scoped_lock, std::unique_lock and std::condition_variable_any work. Each has the
// contract of the acquire() or release() it calls; try_lock_until() takes a time point
// of any clock, converted with saturation (detail/deadline.hpp): one that passed, or
// time_point::min(), is one try; time_point::max() waits without a deadline; a NaN
// time point throws ValueError.
//
// For clang's -Wthread-safety these members acquire and release the object itself (the
// analysis names the lock by the expression they are called on, as for acquire()).
template <class Derived>
class WEFT_CAPABILITY("mutex") TimedLockable {
 public:
  void lock(SourceLoc loc = SourceLoc::current()) WEFT_ACQUIRE() WEFT_NO_THREAD_SAFETY_ANALYSIS {
    self().acquire(true, loc);
  }
  void unlock() WEFT_RELEASE() WEFT_NO_THREAD_SAFETY_ANALYSIS { self().release(); }
  bool try_lock(SourceLoc loc = SourceLoc::current())
      WEFT_TRY_ACQUIRE(true) WEFT_NO_THREAD_SAFETY_ANALYSIS {
    return self().acquire(false, loc);
  }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout, SourceLoc loc = SourceLoc::current())
      WEFT_TRY_ACQUIRE(true) WEFT_NO_THREAD_SAFETY_ANALYSIS {
    return self().acquire(timeout, loc);
  }
  template <class C, class D>
  bool try_lock_until(std::chrono::time_point<C, D> when, SourceLoc loc = SourceLoc::current())
      WEFT_TRY_ACQUIRE(true) WEFT_NO_THREAD_SAFETY_ANALYSIS {
    return self().acquire_until(to_deadline(when), loc);
  }

 protected:
  TimedLockable() = default;
  ~TimedLockable() = default;

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace weft::detail
