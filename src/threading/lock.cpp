// SPDX-License-Identifier: Apache-2.0
// Lock slow paths: spin, park, hand off. Fast paths are inline in weft/lock.hpp.
//
// State bits: kLocked (held) and kParked (a thread may be parked on &state_).
//   (L3) A waiter sets kParked before parking; park() validates, under the bucket lock,
//        that the state is still kLocked|kParked, so it cannot miss (L4).
//   (L4) release_slow() rewrites the state inside unpark_one's callback, under the same
//        bucket lock: kParked stays set only while threads remain parked.
//   (L5) A fair hand-off leaves kLocked set and passes token kHandoff: the woken thread
//        owns the lock without touching the state.
#include "weft/lock.hpp"

#include "weft/detail/backoff.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/errors.hpp"

namespace weft {
namespace {
constexpr detail::ParkToken kHandoff = 1;
}

Lock::Lock(std::string_view name) {
  if (!name.empty()) set_name(name);
}

Lock::~Lock() {
  if (flags_ != 0 || detail::debug_on()) detail::hooks::object_destroyed(this);
}

void Lock::set_name(std::string_view name) {
  flags_ |= kNamed;
  detail::hooks::object_named(this, detail::ObjKind::lock, name);
}

bool Lock::acquire_slow(detail::Deadline deadline, detail::SourceLoc loc) {
  const bool debug = detail::debug_on();
  if (debug && deadline != detail::kImmediate) detail::hooks::before_acquire(this, detail::ObjKind::lock, loc);
  bool contended = false;
  detail::Backoff backoff;
  std::uint8_t state = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((state & kLocked) == 0) {
      if (state_.compare_exchange_weak(state, state | kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed))
        break;
      continue;
    }
    if (deadline == detail::kImmediate) return false;
    if ((state & kParked) == 0) {
      if (backoff.spin()) {
        state = state_.load(std::memory_order_relaxed);
        continue;
      }
      // (L3) announce that we are about to park.
      if (!state_.compare_exchange_weak(state, state | kParked, std::memory_order_relaxed,
                                        std::memory_order_relaxed))
        continue;
    }
    contended = true;
    const detail::ParkResult r = detail::park(
        &state_,
        [&] { return state_.load(std::memory_order_relaxed) == (kLocked | kParked); },
        [] {},
        [&](const void*, bool was_last) {
          // Last waiter leaving on timeout: nobody is parked any more.
          if (was_last) state_.fetch_and(static_cast<std::uint8_t>(~kParked), std::memory_order_relaxed);
        },
        deadline, detail::WaitSite{this, detail::ObjKind::lock, loc});
    // The parking lot orders the unparker's writes before our return ((U2)/(P2)), so a
    // hand-off needs no further fence.
    if (r.status == detail::ParkStatus::kUnparked && r.token == kHandoff) break;
    if (r.status == detail::ParkStatus::kTimedOut) {
      // One last try: the lock may have been released just as the deadline passed.
      state = state_.load(std::memory_order_relaxed);
      if ((state & kLocked) == 0 &&
          state_.compare_exchange_strong(state, state | kLocked, std::memory_order_acquire,
                                         std::memory_order_relaxed))
        break;
      return false;
    }
    backoff.reset();
    state = state_.load(std::memory_order_relaxed);
  }
  if (debug) detail::hooks::after_acquire(this, detail::ObjKind::lock, loc, contended);
  return true;
}

void Lock::release_slow() {
  std::uint8_t state = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((state & kLocked) == 0) throw RuntimeError("release unlocked lock");
    if ((state & kParked) != 0) break;
    if (state_.compare_exchange_weak(state, 0, std::memory_order_release,
                                     std::memory_order_relaxed)) {
      if (detail::debug_on()) detail::hooks::after_release(this, detail::ObjKind::lock);
      return;
    }
  }
  // Tell the tools first: once the state changes another thread may acquire and report.
  if (detail::debug_on()) detail::hooks::after_release(this, detail::ObjKind::lock);
  detail::unpark_one(&state_, [&](detail::UnparkResult r) -> detail::ParkToken {
    if (r.unparked != 0 && r.be_fair) {
      // (L5) hand the lock over: it stays locked.
      state_.store(r.have_more ? (kLocked | kParked) : kLocked, std::memory_order_release);
      return kHandoff;
    }
    // (L4)
    state_.store(r.have_more ? kParked : 0, std::memory_order_release);
    return 0;
  });
}

}  // namespace weft
