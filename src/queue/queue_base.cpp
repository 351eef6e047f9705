// SPDX-License-Identifier: Apache-2.0
// Queue slow paths: spin, park and wake, for both engines. The typed fast paths are
// inline in weft/queue.hpp and the engine headers; the protocols are described in
// weft/detail/queue_core.hpp ((Q1)/(Q2)/(S1)/(S2), single lock) and
// weft/detail/queue_fifo.hpp ((F1)-(F4), (J1)/(J2), two-lock FIFO).
#include <string>

#include "weft/detail/backoff.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/queue_core.hpp"
#include "weft/detail/queue_fifo.hpp"

namespace weft::detail {

void notify_select_waiter(SelectWaiter& waiter) noexcept {
  // (S1) the flag is set before the unpark's bucket lock: pairs with (S2).
  waiter.notified.store(1, std::memory_order_relaxed);
  unpark_one(&waiter.notified);
}

std::size_t select_rotation() noexcept {
  thread_local std::size_t next = 0;
  return next++;
}

QueueBase::QueueBase(std::size_t maxsize, std::string_view name) : maxsize_(maxsize) {
  if (!name.empty()) name_queue(name);
}

QueueBase::~QueueBase() {
  if (named_ != 0 || debug_on()) hooks::object_destroyed(this);
}

void QueueBase::seal_for_exit() { lock_.acquire(); }

void QueueBase::name_queue(std::string_view name) {
  named_ = 1;
  hooks::object_named(this, ObjKind::queue, name);
  lock_.set_name(std::string(name) + ".mutex");  // Python's queue.mutex
}


namespace {

// How many Backoff rounds a waiting getter / putter spins before parking: all of them
// (pause rounds, then yield rounds). Measured: dropping the yield rounds helps 1P1C and
// ping-pong when cores are idle but loses 2-3x at 16P16C on 2 cores, where a yield lets
// the other side run instead of parking.
constexpr std::uint32_t kQueueSpinRounds = Backoff::kSpinLimit;

// Spins (no lock held) while `still_waiting` holds; true if it stopped holding.
template <class Pred>
bool spin_while(Pred still_waiting) {
  Backoff backoff;
  std::uint32_t rounds = 0;
  while (rounds++ < kQueueSpinRounds && backoff.spin()) {
    if (!still_waiting()) return true;
  }
  return false;
}

// As spin_while(still_waiting), with `lock` released meanwhile (held on entry and exit).
template <class Pred>
bool spin_while(Lock& lock, Pred still_waiting, SourceLoc loc) {
  lock.release();
  const bool changed = spin_while(still_waiting);
  lock.acquire(true, loc);
  return changed;
}

bool passed(Deadline deadline) {
  return deadline != kForever && Clock::now() >= deadline;
}

void unpark_up_to(const void* key, std::size_t n) noexcept {
  if (n == 1) {
    unpark_one(key);
  } else {
    unpark_n(key, n);
  }
}

}  // namespace

bool QueueBase::wait_getter(Deadline deadline, SourceLoc loc) {
  auto empty = [this] {
    // (Q2) relaxed is enough: the bucket lock (or lock_ after the spin) orders it.
    return size_.load(std::memory_order_relaxed) == 0 &&
           !shutdown_.load(std::memory_order_relaxed);
  };
  if (spin_while(lock_, empty, loc)) return true;
  if (!empty()) return true;
  if (passed(deadline)) return false;
  ++getters_waiting_;
  lock_.release();
  const ParkResult r =
      park(&getters_waiting_, empty, deadline, WaitSite{this, ObjKind::queue, loc, true});
  lock_.acquire(true, loc);
  --getters_waiting_;
  return r.status != ParkStatus::kTimedOut;
}

bool QueueBase::wait_putter(Deadline deadline, SourceLoc loc) {
  auto full = [this] {
    return size_.load(std::memory_order_relaxed) >= maxsize_ &&
           !shutdown_.load(std::memory_order_relaxed);
  };
  if (spin_while(lock_, full, loc)) return true;
  if (!full()) return true;
  if (passed(deadline)) return false;
  ++putters_waiting_;
  lock_.release();
  const ParkResult r = park(&putters_waiting_, full, deadline, WaitSite{this, ObjKind::queue, loc});
  lock_.acquire(true, loc);
  --putters_waiting_;
  return r.status != ParkStatus::kTimedOut;
}

bool QueueBase::wait_joiner(Deadline deadline, SourceLoc loc) {
  if (passed(deadline)) return false;
  ++joiners_waiting_;
  lock_.release();
  const ParkResult r = park(
      &joiners_waiting_, [this] { return unfinished_.load(std::memory_order_relaxed) != 0; },
      deadline, WaitSite{this, ObjKind::queue, loc});
  lock_.acquire(true, loc);
  --joiners_waiting_;
  return r.status != ParkStatus::kTimedOut;
}

void QueueBase::wake_getters(std::size_t n) noexcept { unpark_up_to(&getters_waiting_, n); }

void QueueBase::wake_putters(std::size_t n) noexcept { unpark_up_to(&putters_waiting_, n); }

void QueueBase::wake_joiners() noexcept { unpark_all(&joiners_waiting_); }

void QueueBase::wake_everyone(bool joiners) noexcept {
  unpark_all(&getters_waiting_);
  unpark_all(&putters_waiting_);
  if (joiners) unpark_all(&joiners_waiting_);
}

void SelectorList::link(SelectNode& node) noexcept {
  node.prev = nullptr;
  node.next = head;
  if (head != nullptr) head->prev = &node;
  head = &node;
}

void SelectorList::unlink(SelectNode& node) noexcept {
  if (node.prev != nullptr) {
    node.prev->next = node.next;
  } else {
    head = node.next;
  }
  if (node.next != nullptr) node.next->prev = node.prev;
  node.prev = node.next = nullptr;
}

void SelectorList::notify() const noexcept {
  for (SelectNode* n = head; n != nullptr; n = n->next) notify_select_waiter(*n->waiter);
}

// ---- the two-lock FIFO (FifoBase) ----------------------------------------------------------

FifoBase::FifoBase(std::size_t maxsize, std::string_view name) : maxsize_(maxsize) {
  if (!name.empty()) name_queue(name);
}

FifoBase::~FifoBase() {
  if (named_ != 0 || debug_on()) hooks::object_destroyed(this);
}

void FifoBase::seal_for_exit() {
  tail_lock_.acquire();  // lock order: tail_lock_, then head_lock_
  head_lock_.acquire();
}

void FifoBase::name_queue(std::string_view name) {
  named_ = 1;
  hooks::object_named(this, ObjKind::queue, name);
  // Python's queue.mutex; both internal locks carry the name (one per side).
  tail_lock_.set_name(std::string(name) + ".mutex");
  head_lock_.set_name(std::string(name) + ".mutex");
}

// Validate predicates. Relaxed loads: the bucket lock (or the lock held by the caller)
// orders them after the state change that matters (F3).
bool FifoBase::getter_empty() const noexcept {
  return head_pos_.load(std::memory_order_relaxed) == tail_pos_.load(std::memory_order_relaxed) &&
         !shutdown_.load(std::memory_order_relaxed);
}

bool FifoBase::putter_full() const noexcept {
  return tail_pos_.load(std::memory_order_relaxed) - head_pos_.load(std::memory_order_relaxed) >=
             maxsize_ &&
         !shutdown_.load(std::memory_order_relaxed);
}

bool FifoBase::unfinished() const noexcept {
  // done_ first: done_ <= tail_pos_ always, so equal values mean no unfinished task at
  // the moment tail_pos_ was read.
  const std::uint64_t d = done_.load(std::memory_order_seq_cst);
  return tail_pos_.load(std::memory_order_seq_cst) != d;  // (J1)
}

namespace {

// The wait of a FIFO getter or putter: `own` (its side's lock) is held on entry and on
// return; it spins with no lock held, then registers on `waiting` under `other`, the
// opposite side's lock, and re-checks there (F3) before it parks.
template <class Pred>
bool wait_across(Lock& own, Lock& other, std::atomic<std::uint32_t>& waiting, Pred still_waiting,
                 Deadline deadline, WaitSite site) {
  own.release();
  bool woke = spin_while(still_waiting);
  if (!woke && !passed(deadline)) {
    other.acquire(true, site.loc);
    waiting.fetch_add(1, std::memory_order_relaxed);  // (F3) under `other`
    const bool still = still_waiting();
    other.release();
    woke = !still || park(&waiting, still_waiting, deadline, site).status != ParkStatus::kTimedOut;
    waiting.fetch_sub(1, std::memory_order_relaxed);
  }
  own.acquire(true, site.loc);
  return woke;
}

}  // namespace

bool FifoBase::wait_getter(Deadline deadline, SourceLoc loc) {
  return wait_across(head_lock_, tail_lock_, getters_waiting_, [this] { return getter_empty(); },
                     deadline, WaitSite{this, ObjKind::queue, loc, true});
}

bool FifoBase::wait_putter(Deadline deadline, SourceLoc loc) {
  return wait_across(tail_lock_, head_lock_, putters_waiting_, [this] { return putter_full(); },
                     deadline, WaitSite{this, ObjKind::queue, loc});
}

void FifoBase::wake_getters(std::size_t n) noexcept { unpark_up_to(&getters_waiting_, n); }

void FifoBase::wake_putters(std::size_t n) noexcept { unpark_up_to(&putters_waiting_, n); }

void FifoBase::wake_everyone(bool joiners) noexcept {
  unpark_all(&getters_waiting_);
  unpark_all(&putters_waiting_);
  if (joiners) unpark_all(&joiners_waiting_);
}

void FifoBase::task_done_core(SourceLoc) {
  std::uint64_t d = done_.load(std::memory_order_relaxed);
  for (;;) {
    // head_pos_ <= tail_pos_: far from zero, the getter's own line is enough; near zero
    // the exact count needs tail_pos_.
    std::uint64_t bound = head_pos_.load(std::memory_order_acquire);
    if (d + 1 >= bound) bound = tail_pos_.load(std::memory_order_acquire);
    if (d >= bound) throw ValueError("task_done() called too many times");
    if (done_.compare_exchange_weak(d, d + 1, std::memory_order_seq_cst,
                                    std::memory_order_relaxed)) {
      // (J2) the last unfinished task: wake joiners (only if one registered).
      if (d + 1 == bound && joiners_waiting_.load(std::memory_order_seq_cst) != 0)
        unpark_all(&joiners_waiting_);
      return;
    }
  }
}

bool FifoBase::join_core(Deadline deadline, SourceLoc loc) {
  for (;;) {
    if (!unfinished()) return true;
    if (deadline == kImmediate || passed(deadline)) return false;
    joiners_waiting_.fetch_add(1, std::memory_order_seq_cst);  // (J1)
    auto pending = [this] { return unfinished(); };
    const bool timed_out =
        pending() && park(&joiners_waiting_, pending, deadline, WaitSite{this, ObjKind::queue, loc})
                             .status == ParkStatus::kTimedOut;
    joiners_waiting_.fetch_sub(1, std::memory_order_relaxed);
    if (timed_out) return !unfinished();
  }
}

void FifoBase::select_link(SelectNode& node, SourceLoc loc) {
  head_lock_.release();
  tail_lock_.acquire(true, loc);
  selectors_.link(node);
  // A put or shutdown between the caller's poll and this link did not see the node:
  // make the select poll again instead of sleeping.
  if (!getter_empty()) node.waiter->notified.store(1, std::memory_order_relaxed);
  tail_lock_.release();
}

void FifoBase::select_unlink(SelectNode& node, SourceLoc loc) {
  tail_lock_.acquire(true, loc);
  selectors_.unlink(node);
  tail_lock_.release();
}

}  // namespace weft::detail
