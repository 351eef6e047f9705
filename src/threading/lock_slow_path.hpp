// SPDX-License-Identifier: Apache-2.0
// The slow paths of weft's lock algorithm (protocol and fast paths:
// weft/detail/lock_algorithm.hpp), and the hooks through which each lock adds its own
// reporting. Private to src/threading.
#pragma once

#include "weft/detail/assert.hpp"
#include "weft/detail/backoff.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/lock_algorithm.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::detail {

// The token a releaser gives the thread it hands a held lock to (LA5). Condition's
// requeued waiters receive it too; every other token means "not handed the lock".
inline constexpr ParkToken kLockHandoff = 1;

// The hooks of the slow paths, with what each one may do. A lock derives from
// NoLockHooks and hides the members it needs; Barrier's internal lock uses it as is.
struct NoLockHooks {
  // lock_slow(): first, before any attempt.
  void before_lock(Deadline /*deadline*/) {}
  // lock_slow(): last; `acquired` is its result (false also before an interruption is
  // thrown), `contended` whether it parked.
  void after_lock(bool /*acquired*/, bool /*contended*/) {}
  // Around every call into the parking lot (park and unpark).
  void enter_parking_lot() {}
  void leave_parking_lot() {}
  // What the debug tools show for a thread parked in lock_slow().
  WaitSite wait_site() const { return WaitSite{}; }
  // unlock_slow(): first, before the word changes.
  void before_unlock() {}
  // unlock_slow(): the lock was not held. A lock any thread may release throws here;
  // for the others (the caller owns the lock) it is a weft bug.
  void not_held() { WEFT_ASSERT(!"unlock_slow() of a lock that is not held"); }
  // unlock_slow(): right after the release when no thread is parked, or right before
  // the unpark that releases or hands off the lock otherwise.
  void on_release() {}
  // unlock_slow(): last.
  void after_unlock() {}
};

template <class Word>
template <class Hooks>
bool LockAlgorithm<Word>::lock_slow(Atomic& word, Deadline deadline, Hooks& hooks,
                                    Interruptible interruptible) {
  hooks.before_lock(deadline);
  bool acquired = false;
  bool contended = false;
  Backoff backoff;
  Word s = word.load(std::memory_order_relaxed);
  for (;;) {
    if ((s & kHeld) == 0) {
      // (LA1)
      if (word.compare_exchange_weak(s, static_cast<Word>(s | kHeld), std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
        acquired = true;
        break;
      }
      continue;
    }
    if (deadline == kImmediate) break;
    if ((s & kParked) == 0) {
      if (backoff.spin()) {
        s = word.load(std::memory_order_relaxed);
        continue;
      }
      // (LA3) announce that we are about to park.
      if (!word.compare_exchange_weak(s, static_cast<Word>(s | kParked), std::memory_order_relaxed,
                                      std::memory_order_relaxed))
        continue;
    }
    contended = true;
    hooks.enter_parking_lot();
    const ParkResult r = park(
        &word, [&] { return word.load(std::memory_order_relaxed) == (kHeld | kParked); }, [] {},
        [&](const void*, bool was_last) { waiter_left(word, was_last); },  // (LA6)
        deadline, hooks.wait_site(), 0, interruptible);
    hooks.leave_parking_lot();
    if (r.status == ParkStatus::kUnparked && r.token == kLockHandoff) {  // (LA5)
      WEFT_ASSERT(is_held(word));
      acquired = true;
      break;
    }
    if (r.status == ParkStatus::kInterrupted) {  // (LA7)
      hooks.after_lock(false, contended);
      throw_interruption();
    }
    if (r.status == ParkStatus::kTimedOut) {
      // One last try: the lock may have been released just as the deadline passed.
      s = word.load(std::memory_order_relaxed);
      acquired = (s & kHeld) == 0 &&
                 word.compare_exchange_strong(s, static_cast<Word>(s | kHeld),
                                              std::memory_order_acquire, std::memory_order_relaxed);
      break;
    }
    backoff.reset();
    s = word.load(std::memory_order_relaxed);
  }
  hooks.after_lock(acquired, contended);
  return acquired;
}

template <class Word>
template <class Hooks>
void LockAlgorithm<Word>::unlock_slow(Atomic& word, Hooks& hooks) {
  hooks.before_unlock();
  Word s = word.load(std::memory_order_relaxed);
  for (;;) {
    if ((s & kHeld) == 0) hooks.not_held();
    if ((s & kParked) != 0) break;
    // (LA2)
    if (word.compare_exchange_weak(s, 0, std::memory_order_release, std::memory_order_relaxed)) {
      hooks.on_release();
      hooks.after_unlock();
      return;
    }
  }
  hooks.on_release();
  hooks.enter_parking_lot();
  unpark_one(&word, [&](UnparkResult r) -> ParkToken {
    if (r.unparked != 0 && r.be_fair) {
      // (LA5) hand the lock over: it stays held.
      word.store(r.have_more ? static_cast<Word>(kHeld | kParked) : kHeld, std::memory_order_release);
      return kLockHandoff;
    }
    // (LA4)
    word.store(r.have_more ? kParked : 0, std::memory_order_release);
    return 0;
  });
  hooks.leave_parking_lot();
  hooks.after_unlock();
}

}  // namespace weft::detail
