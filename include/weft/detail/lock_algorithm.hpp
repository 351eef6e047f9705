// SPDX-License-Identifier: Apache-2.0
// weft/detail/lock_algorithm.hpp: weft's one lock algorithm, projected onto a lock word.
//
// A lock word is an atomic unsigned integer that holds only two bits: kHeld (a thread
// holds the lock) and kParked (threads may be parked in the parking lot on the word's
// address). LockAlgorithm<Word> is every operation on such a word. The inline fast
// paths are here; the slow paths (spin, park, hand off) are member templates defined in
// src/threading/lock_slow_path.hpp, parameterised by hooks that add what each lock
// reports (debug tools, TSan, an owner). Lock, RLock and Barrier's internal lock are this
// algorithm; Condition requeues its waiters onto a Lock's or RLock's word through it.
//
// Protocol:
//   (LA1) acquire: a compare-and-swap that sets kHeld, acquire order. Pairs with (LA2).
//   (LA2) release: a compare-and-swap kHeld -> 0, or the store in (LA4), release order.
//   (LA3) a waiter sets kParked before it parks; park() validates, under the bucket
//         lock, that the word is still kHeld|kParked, so it cannot miss (LA4).
//   (LA4) unlock_slow() rewrites the word inside unpark_one's callback, under the same
//         bucket lock: kParked stays set only while threads remain parked.
//   (LA5) a fair hand-off (about once per millisecond of contention) leaves kHeld set
//         and wakes the longest waiter with kLockHandoff: it owns the lock without
//         touching the word. The parking lot orders the releaser's writes before the
//         woken thread's return, so the hand-off needs no further fence.
//   (LA6) a waiter that leaves the queue without the lock (its deadline passed, or its
//         park was interrupted) clears kParked under the bucket lock if it was the last
//         one parked.
//   (LA7) an interrupted acquire (Interruptible::kYes) holds nothing: after (LA6) it
//         reports a failed acquisition to its hooks and throws what the interrupt means
//         (detail::throw_interruption()).
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"

namespace weft::detail {

enum class Interruptible : bool;  // detail/parking_lot.hpp

template <class Word>
class LockAlgorithm {
  static_assert(std::is_unsigned_v<Word>, "a lock word is an unsigned integer");

 public:
  using Atomic = std::atomic<Word>;
  static constexpr Word kHeld = 1;
  static constexpr Word kParked = 2;

  // (LA1) from the unlocked word only. Returns: true if the caller now holds the lock.
  WEFT_ALWAYS_INLINE static bool try_lock_fast(Atomic& word) noexcept {
    Word expected = 0;
    return word.compare_exchange_weak(expected, kHeld, std::memory_order_acquire,
                                      std::memory_order_relaxed);
  }

  // (LA2) when no thread is parked. Returns: false if unlock_slow() must release instead.
  WEFT_ALWAYS_INLINE static bool unlock_fast(Atomic& word) noexcept {
    Word expected = kHeld;
    return word.compare_exchange_strong(expected, 0, std::memory_order_release,
                                        std::memory_order_relaxed);
  }

  // True if some thread holds the lock (a snapshot).
  static bool is_held(const Atomic& word) noexcept {
    return (word.load(std::memory_order_relaxed) & kHeld) != 0;
  }

  // Acquires the lock, spinning briefly and then parking until `deadline` (kImmediate:
  // one try; kForever: no deadline). Returns: true if acquired. Throws: what an
  // interrupt of the park means (LA7), with Interruptible::kYes only. Defined in
  // src/threading/lock_slow_path.hpp, with the hooks it calls.
  template <class Hooks>
  static bool lock_slow(Atomic& word, Deadline deadline, Hooks& hooks,
                        Interruptible interruptible);

  // Releases the lock held by the caller's side and wakes (or hands the lock to) one
  // parked thread, if any. Defined in src/threading/lock_slow_path.hpp.
  template <class Hooks>
  static void unlock_slow(Atomic& word, Hooks& hooks);

  // For a thread requeued onto this word from another queue (Condition): under the
  // bucket locks of both keys, sets kParked if the lock is held. Returns: false if the
  // lock is not held (the threads must be woken instead of requeued).
  static bool mark_parked_if_held(Atomic& word) noexcept {
    Word s = word.load(std::memory_order_relaxed);
    for (;;) {
      if ((s & kHeld) == 0) return false;
      if ((s & kParked) != 0) return true;
      if (word.compare_exchange_weak(s, static_cast<Word>(s | kParked), std::memory_order_relaxed,
                                     std::memory_order_relaxed))
        return true;
    }
  }

  // (LA6) A thread parked on this word left the queue without the lock; `was_last` as
  // the parking lot's timed_out callback reports it. Under the word's bucket lock.
  static void waiter_left(Atomic& word, bool was_last) noexcept {
    if (was_last) word.fetch_and(static_cast<Word>(~kParked), std::memory_order_relaxed);
  }
};

// The lock word of Lock, RLock and Barrier's internal lock.
using ByteLockAlgorithm = LockAlgorithm<std::uint8_t>;

}  // namespace weft::detail
