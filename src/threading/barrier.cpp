// SPDX-License-Identifier: Apache-2.0
// Barrier: CPython's algorithm (Lib/threading.py) with the action run outside the lock.
//
// mu_ is weft's lock algorithm (detail/lock_algorithm.hpp) on one byte, as Lock but
// without debug hooks: it is never held while user code runs, so it is no lock-order
// edge. It guards state_, count_, action_thread_ and round_.
//   (B1) wait_change() parks on &state_ and releases mu_ in before_sleep, after it is
//        queued; every state change is followed by notify_change() with mu_ held, so a
//        waiter cannot miss one (Condition's (C1)).
//   (B2) while the last party runs the action (kAction, mu_ released), arriving threads
//        wait as during draining, the round's parties keep waiting (their timeouts
//        cannot break the round), and abort()/reset() from other threads wait for it.
//   (B4) a wait cut short by an interrupt (cancellation) withdraws its party (leave())
//        and leaves the barrier unbroken, as Python's does; a party whose round completed
//        meanwhile returns its index (the interrupt stays pending). The internal lock's
//        own waits cannot be interrupted.
//   (B3) round_ counts completed rounds. A party whose round completed returns its index
//        even if abort() broke the barrier before it woke (CPython would raise
//        BrokenBarrierError in that window).
#include "weft/barrier.hpp"

#include <exception>
#include <utility>

#include "threading/lock_slow_path.hpp"
#include "threading/wait_loop.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/errors.hpp"

namespace weft {

struct Barrier::StateLockHooks : detail::NoLockHooks {
  const Barrier* barrier;
  detail::SourceLoc loc;

  detail::WaitSite wait_site() const noexcept {
    return detail::WaitSite{barrier, detail::ObjKind::barrier, loc};
  }
};

Barrier::Barrier(std::size_t parties, std::function<void()> action,
                 std::optional<detail::Clock::duration> timeout, std::string_view name)
    : parties_(parties), action_(std::move(action)), timeout_(timeout) {
  if (parties == 0) throw ValueError("Barrier parties must be >= 1");
  if (!name.empty()) set_name(name);
}

Barrier::~Barrier() { detail::hooks::forget_object(this, flags_); }

void Barrier::set_name(std::string_view name) {
  detail::hooks::name_object(this, detail::ObjKind::barrier, name, flags_);
}

void Barrier::lock_state(detail::SourceLoc loc) const {
  if (WEFT_LIKELY(detail::ByteLockAlgorithm::try_lock_fast(mu_.word))) return;
  StateLockHooks hooks{{}, this, loc};
  detail::ByteLockAlgorithm::lock_slow(mu_.word, detail::kForever, hooks, detail::Interruptible::kNo);
}

void Barrier::unlock_state() const {
  if (WEFT_LIKELY(detail::ByteLockAlgorithm::unlock_fast(mu_.word))) return;
  StateLockHooks hooks{{}, this, {}};
  detail::ByteLockAlgorithm::unlock_slow(mu_.word, hooks);
}

bool Barrier::wait_change(detail::FunctionRef<bool()> settled,
                          detail::FunctionRef<bool()> completed, detail::Deadline deadline,
                          detail::SourceLoc loc) {
  return detail::wait_loop(
      settled, [] { return true; }, completed,
      detail::WaitPark{&state_, [] { return true; },
                       [&]() WEFT_NO_THREAD_SAFETY_ANALYSIS { unlock_state(); },  // (B1)
                       [](const void*, bool) {},
                       [&]() WEFT_NO_THREAD_SAFETY_ANALYSIS { lock_state(loc); }, deadline,
                       detail::WaitSite{this, detail::ObjKind::barrier, loc},
                       detail::kNoDoneToken, /*spin=*/false});
}

void Barrier::notify_change() { detail::unpark_all(&state_); }  // (B1), mu_ held

void Barrier::break_barrier() {
  state_ = kBroken;
  notify_change();
}

void Barrier::lock_state_outside_action(detail::SourceLoc loc) {
  lock_state(loc);
  // (B2) abort()/reset() from another thread wait for the action; from the action's own
  // thread they apply at once.
  try {
    wait_change([&]() WEFT_NO_THREAD_SAFETY_ANALYSIS {
                  return state_ != kAction || action_thread_ == detail::current_ident();
                },
                [] { return false; }, detail::kForever, loc);
  } catch (...) {
    unlock_state();
    throw;
  }
}

std::size_t Barrier::wait_until(detail::Deadline deadline, detail::SourceLoc loc) {
  lock_state(loc);
  // Block while the previous round drains or resets, or its action runs (B2).
  try {
    wait_change([&]() WEFT_NO_THREAD_SAFETY_ANALYSIS {
                  return state_ != kDraining && state_ != kResetting && state_ != kAction;
                },
                [] { return false; }, detail::kForever, loc);
  } catch (...) {  // (B4) interrupted before it counted
    unlock_state();
    throw;
  }
  if (state_ == kBroken) {
    unlock_state();
    throw BrokenBarrierError("barrier is broken");
  }
  // A round releases its parties once the last one arrives, so a filling round is never full.
  WEFT_ASSERT(state_ == kFilling && count_ < parties_);
  const std::size_t index = count_++;
  try {
    if (index + 1 == parties_) {
      release_round(loc);
    } else {
      wait_round(round_, deadline, loc);
    }
  } catch (...) {
    leave();
    unlock_state();
    throw;
  }
  leave();
  unlock_state();
  return index;
}

void Barrier::release_round(detail::SourceLoc loc) {
  if (action_) {
    state_ = kAction;  // (B2)
    action_thread_ = detail::current_ident();
    unlock_state();
    std::exception_ptr error;
    try {
      action_();
    } catch (...) {
      error = std::current_exception();
    }
    lock_state(loc);
    action_thread_ = 0;
    if (error) {
      break_barrier();
      std::rethrow_exception(error);
    }
    if (state_ != kAction) {
      // The action called abort() or reset(): this round does not complete.
      notify_change();
      throw BrokenBarrierError("barrier was aborted or reset by its action");
    }
  }
  ++round_;  // (B3)
  state_ = kDraining;
  notify_change();
}

void Barrier::wait_round(std::uint64_t round, detail::Deadline deadline, detail::SourceLoc loc) {
  auto settled = [&]() WEFT_NO_THREAD_SAFETY_ANALYSIS {
    return round_ != round || (state_ != kFilling && state_ != kAction);
  };
  auto completed = [&]() WEFT_NO_THREAD_SAFETY_ANALYSIS { return round_ != round; };  // (B4)
  while (!wait_change(settled, completed, deadline, loc)) {
    // The deadline passed. (B2) while the action runs, the round is completing: the
    // parties' timeouts cannot break it.
    if (state_ != kAction) {
      break_barrier();
      throw BrokenBarrierError("barrier wait timed out");
    }
    deadline = detail::kForever;
  }
  if (round_ != round) return;  // (B3) our round completed
  if (state_ == kBroken || state_ == kResetting)
    throw BrokenBarrierError(state_ == kBroken ? "barrier is broken" : "barrier was reset");
}

void Barrier::leave() {
  WEFT_ASSERT(count_ > 0);
  if (--count_ == 0 && (state_ == kResetting || state_ == kDraining)) {
    state_ = kFilling;
    notify_change();
  }
}

void Barrier::reset() {
  lock_state_outside_action(detail::SourceLoc::current());
  if (count_ > 0) {
    if (state_ == kFilling || state_ == kBroken || state_ == kAction) state_ = kResetting;
  } else {
    state_ = kFilling;
  }
  notify_change();
  unlock_state();
}

void Barrier::abort() {
  lock_state_outside_action(detail::SourceLoc::current());
  break_barrier();
  unlock_state();
}

std::size_t Barrier::n_waiting() const {
  lock_state(detail::SourceLoc::current());
  const std::size_t n = (state_ == kFilling || state_ == kAction) ? count_ : 0;
  unlock_state();
  return n;
}

bool Barrier::broken() const {
  lock_state(detail::SourceLoc::current());
  const bool b = state_ == kBroken;
  unlock_state();
  return b;
}

}  // namespace weft
