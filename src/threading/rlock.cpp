// SPDX-License-Identifier: Apache-2.0
// RLock slow paths. The state word works exactly as Lock's (src/threading/lock.cpp):
//   (R3) a waiter sets kParked before parking; park() validates, under the bucket lock,
//        that the state is still kLocked|kParked, so it cannot miss (R4).
//   (R4) unlock_slow() rewrites the state inside unpark_one's callback, under the same
//        bucket lock: kParked stays set only while threads remain parked.
//   (R5) a fair hand-off leaves kLocked set and passes token kHandoff: the woken thread
//        owns the lock without touching the state (Condition's requeued waiters too).
// owner_ and count_ are written only by the thread that owns the state word, after it
// took it and before it gives it back, so (R1)/(R2) order them too. Other threads read
// owner_ only to compare it with their own ident, which they never find there.
#include "weft/rlock.hpp"

#include "weft/detail/backoff.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/errors.hpp"

namespace weft {
namespace {
constexpr detail::ParkToken kHandoff = 1;
}

RLock::RLock(std::string_view name) {
  WEFT_TSAN_MUTEX_CREATE(this);
  if (!name.empty()) set_name(name);
}

RLock::~RLock() {
  WEFT_TSAN_MUTEX_DESTROY(this);
  if (flags_ != 0 || detail::debug_on()) detail::hooks::object_destroyed(this);
}

void RLock::set_name(std::string_view name) {
  flags_ |= kNamed;
  detail::hooks::object_named(this, detail::ObjKind::rlock, name);
}

void RLock::not_owner() { throw RuntimeError("cannot release un-acquired lock"); }

void RLock::too_deep() { throw RuntimeError("RLock acquired too many times (recursion count overflow)"); }

bool RLock::acquire_slow(detail::Deadline deadline, detail::SourceLoc loc, std::uint64_t me) {
  const bool debug = detail::debug_on();
  const bool blocking = deadline == detail::kForever;
  if (debug && deadline != detail::kImmediate) detail::hooks::before_acquire(this, detail::ObjKind::rlock, loc);
  if (blocking) {
    WEFT_TSAN_PRE_LOCK(this);
  } else {
    WEFT_TSAN_PRE_TRYLOCK(this);
  }
  bool contended = false;
  bool ok = false;
  detail::Backoff backoff;
  std::uint8_t state = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((state & kLocked) == 0) {
      if (state_.compare_exchange_weak(state, state | kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        ok = true;
        break;
      }
      continue;
    }
    if (deadline == detail::kImmediate) break;
    if ((state & kParked) == 0) {
      if (backoff.spin()) {
        state = state_.load(std::memory_order_relaxed);
        continue;
      }
      // (R3) announce that we are about to park.
      if (!state_.compare_exchange_weak(state, state | kParked, std::memory_order_relaxed,
                                        std::memory_order_relaxed))
        continue;
    }
    contended = true;
    WEFT_TSAN_PRE_DIVERT(this);
    const detail::ParkResult r = detail::park(
        &state_, [&] { return state_.load(std::memory_order_relaxed) == (kLocked | kParked); },
        [] {},
        [&](const void*, bool was_last) {
          if (was_last) state_.fetch_and(static_cast<std::uint8_t>(~kParked), std::memory_order_relaxed);
        },
        deadline, detail::WaitSite{this, detail::ObjKind::rlock, loc});
    WEFT_TSAN_POST_DIVERT(this);
    // The parking lot orders the unparker's writes before our return, so a hand-off
    // needs no further fence.
    if (r.status == detail::ParkStatus::kUnparked && r.token == kHandoff) {
      ok = true;
      break;
    }
    if (r.status == detail::ParkStatus::kTimedOut) {
      // One last try: the lock may have been released just as the deadline passed.
      state = state_.load(std::memory_order_relaxed);
      ok = (state & kLocked) == 0 &&
           state_.compare_exchange_strong(state, state | kLocked, std::memory_order_acquire,
                                          std::memory_order_relaxed);
      break;
    }
    backoff.reset();
    state = state_.load(std::memory_order_relaxed);
  }
  if (ok) own(me);
  if (blocking) {
    WEFT_TSAN_POST_LOCK(this);
  } else {
    WEFT_TSAN_POST_TRYLOCK(this, ok);
  }
  if (ok && debug) detail::hooks::after_acquire(this, detail::ObjKind::rlock, loc, contended);
  return ok;
}

void RLock::unlock_slow() {
  // The caller already cleared owner_ and count_.
  // Tell the tools first: once the state changes another thread may acquire and report.
  if (detail::debug_on()) detail::hooks::after_release(this, detail::ObjKind::rlock);
  WEFT_TSAN_PRE_UNLOCK(this);
  std::uint8_t state = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((state & kParked) != 0) break;
    if (state_.compare_exchange_weak(state, 0, std::memory_order_release,
                                     std::memory_order_relaxed)) {
      WEFT_TSAN_POST_UNLOCK(this);
      return;
    }
  }
  WEFT_TSAN_PRE_DIVERT(this);
  detail::unpark_one(&state_, [&](detail::UnparkResult r) -> detail::ParkToken {
    if (r.unparked != 0 && r.be_fair) {
      // (R5) hand the lock over: it stays locked.
      state_.store(r.have_more ? (kLocked | kParked) : kLocked, std::memory_order_release);
      return kHandoff;
    }
    // (R4)
    state_.store(r.have_more ? kParked : 0, std::memory_order_release);
    return 0;
  });
  WEFT_TSAN_POST_DIVERT(this);
  WEFT_TSAN_POST_UNLOCK(this);
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
  if (!(kFastPath && !detail::debug_on() && try_fast())) acquire_slow(detail::kForever, loc, me);
  owner_.store(me, std::memory_order_relaxed);
  count_ = saved;
}

}  // namespace weft
