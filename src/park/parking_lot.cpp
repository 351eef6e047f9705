// SPDX-License-Identifier: Apache-2.0
// L1 parking lot: address-keyed FIFO queues of parked threads.
//
// Layout: a fixed table of buckets (park/bucket_table.hpp), each a WordLock and an
// intrusive FIFO list of the ThreadRecord of parked threads (one ThreadRecord per
// thread, created at its first park). A parked thread first spins briefly (Backoff) on
// its own `parked` word, then sleeps in L0 on it: a hand-off to a thread that is still
// spinning costs a cache-line transfer, not a kernel wake-up (tens of microseconds when
// the other core has gone idle). That spin is Backoff's pause rounds and then
// kParkedYieldRounds yields, a fraction of what sleeping and being woken costs, before
// it sleeps; with threads waiting for a core each yield lets one of them run instead.
//
// Protocol between a parker P and an unparker U (labels used below):
//   (P1) P enqueues itself, with key = k, under the bucket lock after validate(), and
//        stores parked = kSpinning (seq_cst; with kAcceptsInterrupt for an interruptible park).
//   (U1) U dequeues P under the bucket lock, sets P.token and P.key = nullptr (P is no
//        longer queued), and unlocks.
//   (U2) U exchanges P.parked to 0 (acq_rel) and makes the wake-up system call only if P
//        had announced kSleeping, or had been interrupted (kInterrupted: P may be waiting
//        for (U2) in (P3)). Pairs with (P2) and (P4).
//   (P2) P sees parked == 0 (acquire): U's writes, and the token, are visible.
//   (P4) P stops spinning by a CAS kSpinning -> kSleeping, then sleeps in L0 while the word
//        is kSleeping: a U that exchanged the word first made the CAS fail (P is
//        unparked); a U that came after saw kSleeping and wakes P (or P's L0 wait finds
//        the word already 0 and returns at once).
//   (P3) On timeout or interrupt P locks its key's bucket: if P.key is still set, P
//        removes itself; if it is nullptr, U is between (U1) and (U2), so P waits,
//        untimed and ignoring interrupts, for (U2).
//
// Interrupts, between an interruptible parker P and an interrupter I:
//   (I1) I sets the reason bits in P's record (seq_cst), then loads P.parked (seq_cst).
//   (P5) P, after (P1) and before_sleep, loads its reason bits (seq_cst). Dekker pairing
//        with (I1): either P sees the bits, and removes itself as in (P3), or I sees P
//        parked.
//   (I2) I CASes P.parked from a kAcceptsInterrupt state to kInterrupted and, if P was
//        sleeping, wakes it with one wake on that word. No lock: async-signal-safe.
//   (P6) P sees kInterrupted: if a reason is still pending it removes itself as in (P3)
//        and returns kInterrupted; otherwise (an (I2) aimed at an earlier park, whose
//        reason was consumed since) it CASes the word back to kSpinning and waits on.
// (I1) and (I2) are interrupt_thread() in interrupts.cpp; the states of `parked` are in
// park/parked_word.hpp.
#include "weft/detail/parking_lot.hpp"

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "park/bucket_table.hpp"
#include "park/parked_word.hpp"
#include "park/thread_record.hpp"
#include "weft/detail/backoff.hpp"
#include "weft/detail/bubble.hpp"
#include "weft/detail/wait.hpp"

namespace weft::detail {
using namespace lot_detail;  // bucket_table.hpp and parked_word.hpp
namespace {

// Yields of a parked thread before it sleeps (see the top of this file): enough that a
// prompt unpark finds it still spinning (bench/RESULTS.md, "Parked yield rounds").
constexpr std::uint32_t kParkedYieldRounds = 20;

// (U2): wake a thread already dequeued at (U1). The system call only when it sleeps, or
// was interrupted and may be waiting for (U2) in (P3).
void wake(ThreadRecord* t) noexcept {
  // Before (U2): t is still parked.
  if (t->bubble_slot.bubble != nullptr) bubble_dequeued(t->bubble_slot);
  const std::uint32_t old = t->parked.exchange(0, std::memory_order_acq_rel);
  if ((old & kSleeping) != 0 || old == kInterrupted) wake_by_address(t->parked, false);
}

enum class Wake : std::uint8_t { kByUnpark, kByTimeout, kByInterrupt };

// Spins briefly, then sleeps in L0, until (U2), the deadline or, if `interruptible`, an
// interrupt with a reason still pending (P6); with `bubble_wakes`, also when the thread's
// bubble ended the park (kInterruptBubble), interruptible or not. With both false an (I2)
// that lands meanwhile is slept through: (U2) wakes kInterrupted too.
Wake sleep_until_unparked(ThreadRecord& me, Deadline deadline, bool interruptible,
                          bool bubble_wakes = false) noexcept {
  const auto wake_pending = [&] {
    return (interruptible && interrupt_reason_pending(me)) ||
           (bubble_wakes &&
            (me.interrupts.load(std::memory_order_seq_cst) & kInterruptBubble) != 0);
  };
  Backoff backoff(kParkedYieldRounds);
  for (;;) {
    std::uint32_t state = me.parked.load(std::memory_order_acquire);  // (P2)
    if (state == 0) return Wake::kByUnpark;
    // The spinning states first: the loop's common case.
    if ((state & kSpinning) != 0) {
      if (backoff.spin()) continue;
      // (P4) announce that we are going to sleep in the kernel.
      const std::uint32_t sleeping = (state & ~kSpinning) | kSleeping;
      if (!me.parked.compare_exchange_weak(state, sleeping, std::memory_order_acquire,
                                           std::memory_order_acquire))
        continue;
      state = sleeping;
    } else if (state == kInterrupted && (interruptible || bubble_wakes)) {
      if (wake_pending()) return Wake::kByInterrupt;  // (P6)
      me.parked.compare_exchange_strong(state, kSpinning | kAcceptsInterrupt,
                                        std::memory_order_acquire, std::memory_order_acquire);
      continue;
    }
    if (wait_on_address(me.parked, state, deadline) == WaitResult::timed_out) {
      state = me.parked.load(std::memory_order_acquire);
      if (state == 0) return Wake::kByUnpark;
      if (state == kInterrupted && wake_pending()) return Wake::kByInterrupt;
      return Wake::kByTimeout;
    }
  }
}

}  // namespace

std::uint64_t current_ident() noexcept {
  return static_cast<std::uint64_t>(pthread_self());
}

ParkResult park(const void* key, FunctionRef<bool()> validate, FunctionRef<void()> before_sleep,
                FunctionRef<void(const void*, bool)> timed_out, Deadline deadline,
                const WaitSite& site, ParkToken park_token, Interruptible interruptible) {
  ThreadRecord& me = this_thread_record();
  const bool accepts_interrupt =
      interruptible == Interruptible::kYes && me.no_interrupt_depth == 0;
  // Parks of a bubble thread report to the bubble and pass no deadline to L0.
  BubbleSlot* const bubble = me.bubble_slot.bubble != nullptr ? &me.bubble_slot : nullptr;
  // An interruptible park also ends at the scope deadline, as kInterrupted unless its own
  // deadline is not later.
  const Deadline wait_deadline =
      accepts_interrupt && me.scope_deadline < deadline ? me.scope_deadline : deadline;
  {
    Bucket& b = lock_bucket(key);
    if (!validate()) {
      b.lock.unlock();
      return {ParkStatus::kInvalid, 0};
    }
    me.key.store(key, std::memory_order_relaxed);
    me.park_token = park_token;
    me.site = site;
    me.since = real_now();
    me.deadline = deadline;
    b.append(&me);  // (P1)
    me.parked.store(accepts_interrupt || bubble != nullptr ? kSpinning | kAcceptsInterrupt
                                                           : kSpinning,
                    std::memory_order_seq_cst);
    b.lock.unlock();
  }
  before_sleep();
  const bool debug = debug_on();
  if (debug) hooks::wait_begin(site);

  // A bubble thread counts as blocked from here; its bubble, not L0, ends its wait at
  // the (virtual) deadline.
  const bool due = bubble != nullptr && bubble_parked(*bubble, wait_deadline, accepts_interrupt);
  Wake outcome = due ? Wake::kByTimeout : Wake::kByInterrupt;
  if (!due && (!accepts_interrupt || me.interrupts.load(std::memory_order_seq_cst) == 0))  // (P5)
    outcome = sleep_until_unparked(me, bubble != nullptr ? kForever : wait_deadline,
                                   accepts_interrupt, bubble != nullptr);
  if (outcome == Wake::kByUnpark) {
    if (bubble != nullptr) bubble_park_done(*bubble);
    if (debug) hooks::wait_end(site, false);
    return {ParkStatus::kUnparked, me.unpark_token};
  }
  ParkStatus status = outcome == Wake::kByInterrupt || wait_deadline < deadline
                          ? ParkStatus::kInterrupted
                          : ParkStatus::kTimedOut;

  // (P3) Timed out or interrupted. Our key may change under us (requeue), so lock, then
  // re-check.
  for (;;) {
    const void* k = me.key.load(std::memory_order_acquire);
    if (k == nullptr) break;  // dequeued by an unparker: (U2) is coming
    Bucket& b = lock_bucket(k);
    if (me.key.load(std::memory_order_relaxed) != k) {
      b.lock.unlock();
      continue;
    }
    ThreadRecord* prev = nullptr;
    for (ThreadRecord* t = b.head; t != &me; t = t->next) prev = t;
    b.remove(prev, &me);
    me.key.store(nullptr, std::memory_order_relaxed);
    const bool was_last = !b.has_key(k, b.head);
    timed_out(k, was_last);
    b.lock.unlock();
    me.parked.store(0, std::memory_order_relaxed);
    if (bubble != nullptr) {
      bubble_dequeued(*bubble);
      const BubbleWake why = bubble_park_done(*bubble);
      if (why == BubbleWake::kWaitDone) status = ParkStatus::kTimedOut;
      if (why == BubbleWake::kDeadline)
        status = wait_deadline < deadline ? ParkStatus::kInterrupted : ParkStatus::kTimedOut;
    }
    if (debug) hooks::wait_end(site, true);
    return {status, 0};
  }
  sleep_until_unparked(me, kForever, false);
  if (bubble != nullptr) bubble_park_done(*bubble);
  if (debug) hooks::wait_end(site, false);
  return {ParkStatus::kUnparked, me.unpark_token};
}

ParkResult park(const void* key, FunctionRef<bool()> validate, Deadline deadline,
                const WaitSite& site, Interruptible interruptible) {
  return park(
      key, validate, [] {}, [](const void*, bool) {}, deadline, site, 0, interruptible);
}

UnparkResult unpark_one(const void* key, FunctionRef<ParkToken(UnparkResult)> callback) {
  Bucket& b = lock_bucket(key);
  ThreadRecord* prev = nullptr;
  ThreadRecord* t = b.head;
  while (t != nullptr && t->key.load(std::memory_order_relaxed) != key) {
    prev = t;
    t = t->next;
  }
  UnparkResult result;
  if (t != nullptr) {
    ThreadRecord* rest = t->next;
    b.remove(prev, t);
    result.unparked = 1;
    result.have_more = b.has_key(key, rest);
    result.be_fair = b.time_to_be_fair();
  }
  const ParkToken token = callback(result);
  if (t != nullptr) {
    t->unpark_token = token;
    t->key.store(nullptr, std::memory_order_release);  // (U1)
  }
  b.lock.unlock();
  if (t != nullptr) wake(t);
  return result;
}

bool unpark_one(const void* key) {
  return unpark_one(key, [](UnparkResult) -> ParkToken { return 0; }).unparked != 0;
}

namespace {
// Unparks up to `n` threads parked on `key` in FIFO order, those with park token
// `*park_token` only if park_token is not null, each receiving `token`.
std::size_t unpark_matching(const void* key, std::size_t n, const ParkToken* park_token,
                            ParkToken token) {
  if (n == 0) return 0;
  Bucket& b = lock_bucket(key);
  ThreadRecord* woken_head = nullptr;
  ThreadRecord** woken_tail = &woken_head;
  std::size_t count = 0;
  ThreadRecord* prev = nullptr;
  ThreadRecord* t = b.head;
  while (t != nullptr && count < n) {
    ThreadRecord* next = t->next;
    if (t->key.load(std::memory_order_relaxed) == key &&
        (park_token == nullptr || t->park_token == *park_token)) {
      b.remove(prev, t);
      t->unpark_token = token;
      t->key.store(nullptr, std::memory_order_release);  // (U1)
      *woken_tail = t;
      woken_tail = &t->next;
      ++count;
    } else {
      prev = t;
    }
    t = next;
  }
  b.lock.unlock();
  // t->next is ours now: the dequeued threads cannot re-enter a list before (U2).
  for (ThreadRecord* w = woken_head; w != nullptr;) {
    ThreadRecord* next = w->next;
    w->next = nullptr;
    wake(w);
    w = next;
  }
  return count;
}
}  // namespace

std::size_t unpark_n(const void* key, std::size_t n, ParkToken token) {
  return unpark_matching(key, n, nullptr, token);
}

std::size_t unpark_all(const void* key, ParkToken token) {
  return unpark_matching(key, static_cast<std::size_t>(-1), nullptr, token);
}

std::size_t unpark_all_parked_with(const void* key, ParkToken park_token, ParkToken token) {
  return unpark_matching(key, static_cast<std::size_t>(-1), &park_token, token);
}

UnparkResult unpark_requeue(const void* from, const void* to, FunctionRef<RequeueOp()> validate,
                            FunctionRef<ParkToken(RequeueOp, UnparkResult)> callback) {
  auto [bf, bt] = lock_bucket_pair(from, to);
  const RequeueOp op = validate();
  UnparkResult result;
  if (op == RequeueOp::kAbort) {
    callback(op, result);
    unlock_bucket_pair(bf, bt);
    return result;
  }
  ThreadRecord* first = nullptr;
  ThreadRecord* moved_head = nullptr;
  ThreadRecord** moved_tail = &moved_head;
  ThreadRecord* prev = nullptr;
  for (ThreadRecord* t = bf->head; t != nullptr;) {
    ThreadRecord* next = t->next;
    if (t->key.load(std::memory_order_relaxed) == from) {
      bf->remove(prev, t);
      if (op == RequeueOp::kUnparkOneRequeueRest && first == nullptr) {
        first = t;
      } else {
        *moved_tail = t;
        moved_tail = &t->next;
        result.have_more = true;
      }
    } else {
      prev = t;
    }
    t = next;
  }
  for (ThreadRecord* t = moved_head; t != nullptr;) {
    ThreadRecord* next = t->next;
    t->key.store(to, std::memory_order_relaxed);
    bt->append(t);
    t = next;
  }
  if (first != nullptr) {
    result.unparked = 1;
    result.be_fair = bf->time_to_be_fair();
  }
  const ParkToken token = callback(op, result);
  if (first != nullptr) {
    first->unpark_token = token;
    first->key.store(nullptr, std::memory_order_release);  // (U1)
  }
  unlock_bucket_pair(bf, bt);
  if (first != nullptr) wake(first);
  return result;
}

void for_each_parked(FunctionRef<void(const ParkedThread&)> fn) {
  for (Bucket& b : buckets()) {
    WordLockGuard guard(b.lock);
    for (ThreadRecord* t = b.head; t != nullptr; t = t->next) {
      fn(ParkedThread{t->ident.load(std::memory_order_relaxed),
                      t->key.load(std::memory_order_relaxed), t->site, t->since, t->deadline, t});
    }
  }
}

ThreadRecord& current_thread_data() noexcept { return this_thread_record(); }

}  // namespace weft::detail
