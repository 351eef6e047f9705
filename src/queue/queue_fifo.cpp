// SPDX-License-Identifier: Apache-2.0
// src/queue/queue_fifo.cpp: the two-lock FIFO's (Queue, SimpleQueue) slow paths: spin,
// park and wake, task_done and join, select links (protocol (QF1)-(QF4), (QJ1)/(QJ2) in
// weft/detail/queue_fifo.hpp).
#include <string>

#include "queue/queue_wait.hpp"
#include "weft/detail/queue_fifo.hpp"

namespace weft::detail {

FifoBase::FifoBase(std::size_t maxsize, std::string_view name) : maxsize_(maxsize) {
  if (!name.empty()) name_queue(name);
}

FifoBase::~FifoBase() { hooks::forget_object(this, named_); }

void FifoBase::seal_for_exit() {
  put_lock_.acquire();  // lock order: put_lock_, then get_lock_
  get_lock_.acquire();
}

void FifoBase::name_queue(std::string_view name) {
  hooks::name_object(this, ObjKind::queue, name, named_);
  // Python's queue.mutex; both internal locks carry the name (one per side).
  put_lock_.set_name(std::string(name) + ".mutex");
  get_lock_.set_name(std::string(name) + ".mutex");
}

// Validate predicates. Relaxed loads: the bucket lock (or the lock held by the caller)
// orders them after the state change that matters (QF3).
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
  return tail_pos_.load(std::memory_order_seq_cst) != d;  // (QJ1)
}

namespace {

// The wait of a FIFO getter or putter: `own` (its side's lock) is held on entry and on
// return; it spins with no lock held, then registers on `waiting` under `other`, the
// opposite side's lock, and re-checks there (QF3) before it parks. `side` is its side's
// spin state: a waiter spins longer first when it is the only one of its side spinning
// and its side's last wait was not short (see queue_wait.hpp). Interrupted (#13):
// `waiting` is restored, then it throws with no lock held; a wake-up that chose this
// waiter first is taken (the park returns kUnparked), a later one goes to another waiter.
template <class Pred>
bool wait_across(InternalLock& own, InternalLock& other, FifoSpinState& side,
                 std::atomic<std::uint32_t>& waiting, Pred still_waiting, Deadline deadline,
                 WaitSite site) {
  own.release();
  const bool alone = side.spinning.fetch_add(1, std::memory_order_relaxed) == 0;
  const bool long_spin = alone && !side.last_wait_short.load(std::memory_order_relaxed);
  bool short_wait = false;
  bool woke = spin_while(still_waiting, long_spin ? kLoneWaiterPauses : 0, short_wait);
  side.spinning.fetch_sub(1, std::memory_order_relaxed);
  if (side.last_wait_short.load(std::memory_order_relaxed) != short_wait)
    side.last_wait_short.store(short_wait, std::memory_order_relaxed);
  if (!woke && !passed(deadline)) {
    other.acquire(true, site.loc);
    waiting.fetch_add(1, std::memory_order_relaxed);  // (QF3) under `other`
    const bool still = still_waiting();
    other.release();
    const ParkStatus status =
        still ? park(&waiting, still_waiting, deadline, site).status : ParkStatus::kUnparked;
    waiting.fetch_sub(1, std::memory_order_relaxed);
    if (status == ParkStatus::kInterrupted) throw_interruption();
    woke = status != ParkStatus::kTimedOut;
  }
  own.acquire(true, site.loc);
  return woke;
}

}  // namespace

bool FifoBase::wait_getter(Deadline deadline, SourceLoc loc) {
  return wait_across(get_lock_, put_lock_, getters_spin_, getters_waiting_,
                     [this] { return getter_empty(); }, deadline,
                     WaitSite{this, ObjKind::queue, loc, true});
}

bool FifoBase::wait_putter(Deadline deadline, SourceLoc loc) {
  return wait_across(put_lock_, get_lock_, putters_spin_, putters_waiting_,
                     [this] { return putter_full(); }, deadline,
                     WaitSite{this, ObjKind::queue, loc});
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
      // (QJ2) the last unfinished task: wake joiners (only if one registered).
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
    joiners_waiting_.fetch_add(1, std::memory_order_seq_cst);  // (QJ1)
    auto pending = [this] { return unfinished(); };
    const ParkStatus status =
        pending() ? park(&joiners_waiting_, pending, deadline, WaitSite{this, ObjKind::queue, loc})
                        .status
                  : ParkStatus::kUnparked;
    joiners_waiting_.fetch_sub(1, std::memory_order_relaxed);
    if (status == ParkStatus::kInterrupted) throw_interruption();
    if (status == ParkStatus::kTimedOut) return !unfinished();
  }
}

void FifoBase::select_link(SelectNode& node, SourceLoc loc) {
  get_lock_.release();
  put_lock_.acquire(true, loc);
  selectors_.link(node);
  // A put or shutdown between the caller's poll and this link did not see the node:
  // make the select poll again instead of sleeping.
  if (!getter_empty()) node.waiter->notified.store(1, std::memory_order_relaxed);
  put_lock_.release();
}

void FifoBase::select_unlink(SelectNode& node, SourceLoc loc) {
  put_lock_.acquire(true, loc);
  selectors_.unlink(node);
  put_lock_.release();
}

}  // namespace weft::detail
