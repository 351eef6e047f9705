// SPDX-License-Identifier: Apache-2.0
// RLock: weft's lock algorithm (detail/lock_algorithm.hpp, slow paths in
// lock_slow_path.hpp) with an owner, a count, the debug tools' reports and TSan's
// mutex annotations.
//   (R1) owner_ and count_ are written only by the thread that holds the lock word,
//        after it took it and before it gives it back, so the word's acquire and
//        release order them too. Other threads read owner_ only to compare it with
//        their own ident, which they never find there.
#include "weft/rlock.hpp"

#include "threading/lock_slow_path.hpp"
#include "weft/errors.hpp"

namespace weft {

struct RLock::Hooks : detail::NoLockHooks {
  RLock* rlock;
  detail::SourceLoc loc;
  std::uint64_t me;
  bool debug = detail::debug_on();
  bool blocking = false;

  explicit Hooks(RLock* self, detail::SourceLoc site = {}, std::uint64_t ident = 0) noexcept
      : rlock(self), loc(site), me(ident) {}

  void before_lock(detail::Deadline deadline) {
    blocking = deadline == detail::kForever;
    // A try is not a blocking acquisition: no lock-order check.
    if (debug && deadline != detail::kImmediate)
      detail::hooks::before_acquire(rlock, detail::ObjKind::rlock, loc);
    if (blocking) {
      WEFT_TSAN_PRE_LOCK(rlock);
    } else {
      WEFT_TSAN_PRE_TRYLOCK(rlock);
    }
  }
  void after_lock(bool acquired, bool contended) noexcept {
    if (acquired) rlock->own(me);  // (R1)
    if (blocking && acquired) {
      WEFT_TSAN_POST_LOCK(rlock);
    } else {
      WEFT_TSAN_POST_TRYLOCK(rlock, acquired);  // also a blocking acquire that was interrupted
    }
    if (acquired && debug) detail::hooks::after_acquire(rlock, detail::ObjKind::rlock, loc, contended);
  }
  void enter_parking_lot() noexcept { WEFT_TSAN_PRE_DIVERT(rlock); }
  void leave_parking_lot() noexcept { WEFT_TSAN_POST_DIVERT(rlock); }
  detail::WaitSite wait_site() const noexcept {
    return detail::WaitSite{rlock, detail::ObjKind::rlock, loc};
  }
  void before_unlock() noexcept {
    // The caller already cleared owner_ and count_. Tell the tools first: once the word
    // changes another thread may acquire and report.
    WEFT_ASSERT(rlock->count_ == 0 && rlock->owner_.load(std::memory_order_relaxed) == 0);
    if (detail::debug_on()) detail::hooks::after_release(rlock, detail::ObjKind::rlock);
    WEFT_TSAN_PRE_UNLOCK(rlock);
  }
  void after_unlock() noexcept { WEFT_TSAN_POST_UNLOCK(rlock); }
};

RLock::RLock(std::string_view name) {
  WEFT_TSAN_MUTEX_CREATE(this);
  if (!name.empty()) set_name(name);
}

RLock::~RLock() {
  WEFT_TSAN_MUTEX_DESTROY(this);
  detail::hooks::forget_object(this, flags_);
}

void RLock::set_name(std::string_view name) {
  detail::hooks::name_object(this, detail::ObjKind::rlock, name, flags_);
}

void RLock::not_owner() { throw RuntimeError("cannot release un-acquired lock"); }

void RLock::too_deep() { throw RuntimeError("RLock acquired too many times (recursion count overflow)"); }

bool RLock::acquire_slow(detail::Deadline deadline, detail::SourceLoc loc, std::uint64_t me,
                         bool interruptible) {
  Hooks hooks(this, loc, me);
  return Algorithm::lock_slow(state_, deadline, hooks,
                              interruptible ? detail::Interruptible::kYes : detail::Interruptible::kNo);
}

void RLock::unlock_slow() {
  Hooks hooks(this);
  Algorithm::unlock_slow(state_, hooks);
}

RLock::SavedState RLock::release_save() {
  if (owner_.load(std::memory_order_relaxed) != detail::current_ident()) not_owner();
  const SavedState saved = count_;
  count_ = 0;
  owner_.store(0, std::memory_order_relaxed);
  unlock_slow();
  return saved;
}

void RLock::acquire_restore(SavedState saved, detail::SourceLoc loc) {
  const std::uint64_t me = detail::current_ident();
  if (!(kFastPath && !detail::debug_on() && Algorithm::try_lock_fast(state_)))
    acquire_slow(detail::kForever, loc, me, /*interruptible=*/false);
  owner_.store(me, std::memory_order_relaxed);
  count_ = saved;
}

void RLock::adopt_handoff(SavedState saved, detail::SourceLoc loc) noexcept {
  WEFT_ASSERT(locked() && owner_.load(std::memory_order_relaxed) == 0);
  WEFT_TSAN_PRE_LOCK(this);
  owner_.store(detail::current_ident(), std::memory_order_relaxed);
  count_ = saved;
  WEFT_TSAN_POST_LOCK(this);
  if (detail::debug_on()) detail::hooks::after_acquire(this, detail::ObjKind::rlock, loc, true);
}

}  // namespace weft
