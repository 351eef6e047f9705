// SPDX-License-Identifier: Apache-2.0
// Condition slow paths.
//   (C1) wait() joins the queue on &waiters_ (validate increments waiters_ under the
//        bucket lock) and only then releases the lock (in before_sleep). A notifier must
//        hold the lock, so it runs after the waiter is queued: no lost wake-up.
//   (C2) notify() reads waiters_ with the lock held. The waiter incremented it before it
//        released the lock, so the notifier sees it. waiters_ drops only after a thread
//        left the queue (timeout, or notify), so it never under-counts.
//   (C3) notify(n >= waiters) requeues every waiter onto the lock's word, after setting
//        its kParked bit under both bucket locks (only if the lock is held; otherwise it
//        wakes them). The lock's release then unparks them one at a time with the lock
//        algorithm's protocol (detail/lock_algorithm.hpp): token kLockHandoff means "you
//        own the lock".
//        Also for a single waiter: woken while the notifier still holds the lock, it
//        would only block again (bench/RESULTS.md, "Condition: a single waiter too").
//   (C4) a requeued waiter that times out on the lock's queue was notified: it clears
//        the lock's kParked bit if it was the last one there, as the lock's own waiters
//        do (LA6), reacquires the lock and returns true.
//   (C5) a wait whose park is interrupted (cancellation) reacquires the lock without
//        being interruptible and then throws what the interrupt means, unless it had
//        been notified (requeued onto the lock): a call that can complete completes, and
//        the interrupt stays pending for the next blocking call.
#include "weft/condition.hpp"

#include <exception>

#include "threading/lock_slow_path.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/errors.hpp"

namespace weft {
namespace {
using detail::kLockHandoff;
// Condition's own wake-ups: any token other than kLockHandoff.
constexpr detail::ParkToken kNotified = 2;
static_assert(kNotified != kLockHandoff);
using LockWord = detail::ByteLockAlgorithm;
}  // namespace

Condition::Condition(std::string_view name) : rlock_(&own_) {
  if (!name.empty()) set_name(name);
}

Condition::Condition(Lock& lock, std::string_view name) : lock_(&lock) {
  if (!name.empty()) set_name(name);
}

Condition::Condition(RLock& lock, std::string_view name) : rlock_(&lock) {
  if (!name.empty()) set_name(name);
}

Condition::~Condition() { detail::hooks::forget_object(this, flags_); }

void Condition::set_name(std::string_view name) {
  detail::hooks::name_object(this, detail::ObjKind::condition, name, flags_);
}

void Condition::not_owned(const char* what) { throw RuntimeError(what); }

LockWord::Atomic& Condition::lock_word() const noexcept {
  return lock_ != nullptr ? lock_->state_ : rlock_->state_;
}

bool Condition::wait_until(detail::Deadline deadline, detail::SourceLoc loc) {
  if (!is_owned()) not_owned("cannot wait on un-acquired lock");
  if (deadline == detail::kImmediate) {
    // No notify is remembered, so an immediate wait is never notified. Still release and
    // reacquire the lock, as Python does, so that `while (!pred()) cond.wait(0s);` lets
    // the thread that makes pred() true in.
    if (lock_ != nullptr) {
      lock_->acquire_restore(lock_->release_save(), loc);
    } else {
      rlock_->acquire_restore(rlock_->release_save(), loc);
    }
    return false;
  }

  Lock::SavedState lock_saved{};
  RLock::SavedState rlock_saved{};
  std::exception_ptr release_error;
  bool notified = false;
  const void* const key = &waiters_;
  const detail::ParkResult r = detail::park(
      key,
      [&] {
        waiters_.fetch_add(1, std::memory_order_relaxed);  // (C1)
        return true;
      },
      [&]() WEFT_NO_THREAD_SAFETY_ANALYSIS {
        // (C1) queued: now let notifiers in.
        try {
          if (lock_ != nullptr) {
            lock_saved = lock_->release_save();
          } else {
            rlock_saved = rlock_->release_save();
          }
        } catch (...) {
          release_error = std::current_exception();  // another thread released our Lock
        }
      },
      [&](const void* k, bool was_last) {
        if (k == key) {
          waiters_.fetch_sub(1, std::memory_order_relaxed);
        } else {
          notified = true;  // (C4)
          LockWord::waiter_left(lock_word(), was_last);
        }
      },
      deadline, detail::WaitSite{this, detail::ObjKind::condition, loc});
  if (release_error) std::rethrow_exception(release_error);
  if (r.status == detail::ParkStatus::kUnparked) notified = true;

  if (r.status == detail::ParkStatus::kUnparked && r.token == kLockHandoff) {
    // Requeued onto the lock, which was then handed to us (C3): we own it already. The
    // parking lot orders the releaser's writes before our return.
    if (lock_ != nullptr) {
      lock_->adopt_handoff(lock_saved, loc);
    } else {
      rlock_->adopt_handoff(rlock_saved, loc);
    }
    return true;
  }
  if (lock_ != nullptr) {
    lock_->acquire_restore(lock_saved, loc);
  } else {
    rlock_->acquire_restore(rlock_saved, loc);
  }
  if (r.status == detail::ParkStatus::kInterrupted && !notified) detail::throw_interruption();  // (C5)
  return notified;
}

void Condition::notify_slow(std::size_t n) {
  const std::uint32_t waiting = waiters_.load(std::memory_order_relaxed);
  if (n < waiting) {
    const std::size_t woken = detail::unpark_n(&waiters_, n, kNotified);
    if (woken != 0) waiters_.fetch_sub(static_cast<std::uint32_t>(woken), std::memory_order_relaxed);
    return;
  }
  // (C3) everyone: requeue them onto the lock.
  bool requeued = false;
  detail::unpark_requeue(
      &waiters_, &lock_word(),
      [&] {
        if (waiters_.load(std::memory_order_relaxed) == 0) return detail::RequeueOp::kAbort;
        if (!LockWord::mark_parked_if_held(lock_word())) return detail::RequeueOp::kAbort;
        return detail::RequeueOp::kRequeueAll;
      },
      [&](detail::RequeueOp op, detail::UnparkResult) -> detail::ParkToken {
        if (op == detail::RequeueOp::kRequeueAll) {
          waiters_.store(0, std::memory_order_relaxed);
          requeued = true;
        }
        return 0;
      });
  if (requeued) return;
  // The lock is not locked (a Lock released by another thread): wake them instead.
  const std::size_t woken = detail::unpark_all(&waiters_, kNotified);
  if (woken != 0) waiters_.fetch_sub(static_cast<std::uint32_t>(woken), std::memory_order_relaxed);
}

}  // namespace weft
