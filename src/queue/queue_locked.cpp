// SPDX-License-Identifier: Apache-2.0
// src/queue/queue_locked.cpp: the single-lock engine's (LifoQueue, PriorityQueue) slow
// paths: spin, park and wake (protocol (QL1)/(QL2) in weft/detail/queue_locked.hpp).
#include <cstdint>
#include <string>

#include "queue/queue_wait.hpp"
#include "weft/detail/queue_locked.hpp"

namespace weft::detail {

LockedBase::LockedBase(std::size_t maxsize, std::string_view name) : maxsize_(maxsize) {
  if (!name.empty()) name_queue(name);
}

LockedBase::~LockedBase() { hooks::forget_object(this, named_); }

void LockedBase::seal_for_exit() { lock_.acquire(); }

void LockedBase::name_queue(std::string_view name) {
  hooks::name_object(this, ObjKind::queue, name, named_);
  lock_.set_name(std::string(name) + ".mutex");  // Python's queue.mutex
}

namespace {

// The wait of a getter or putter: `lock` is held on entry and on return. Spins with it
// released, then registers on `waiting` under it and parks while `still_waiting` holds
// ((QL1)/(QL2)). False only when the deadline passed. Interrupted (#13): `waiting` is
// restored and `lock` released, then it throws; a wake-up that chose this waiter first
// is taken (the park returns kUnparked), one that came later went to another waiter.
template <class Pred>
bool wait_locked(InternalLock& lock, std::uint32_t& waiting, Pred still_waiting, Deadline deadline,
                 WaitSite site) {
  if (spin_while(lock, still_waiting, site.loc)) return true;
  if (!still_waiting()) return true;
  if (passed(deadline)) return false;
  ++waiting;
  lock.release();
  const ParkResult r = park(&waiting, still_waiting, deadline, site);
  lock.acquire(true, site.loc);
  --waiting;
  if (r.status == ParkStatus::kInterrupted) {
    lock.release();
    throw_interruption();
  }
  return r.status != ParkStatus::kTimedOut;
}

}  // namespace

bool LockedBase::wait_getter(Deadline deadline, SourceLoc loc) {
  auto empty = [this] {
    // (QL2) relaxed is enough: the bucket lock (or lock_ after the spin) orders it.
    return size_.load(std::memory_order_relaxed) == 0 &&
           !shutdown_.load(std::memory_order_relaxed);
  };
  return wait_locked(lock_, getters_waiting_, empty, deadline,
                     WaitSite{this, ObjKind::queue, loc, true});
}

bool LockedBase::wait_putter(Deadline deadline, SourceLoc loc) {
  auto full = [this] {
    return size_.load(std::memory_order_relaxed) >= maxsize_ &&
           !shutdown_.load(std::memory_order_relaxed);
  };
  return wait_locked(lock_, putters_waiting_, full, deadline, WaitSite{this, ObjKind::queue, loc});
}

bool LockedBase::wait_joiner(Deadline deadline, SourceLoc loc) {
  if (passed(deadline)) return false;
  ++joiners_waiting_;
  lock_.release();
  const ParkResult r = park(
      &joiners_waiting_, [this] { return unfinished_.load(std::memory_order_relaxed) != 0; },
      deadline, WaitSite{this, ObjKind::queue, loc});
  lock_.acquire(true, loc);
  --joiners_waiting_;
  if (r.status == ParkStatus::kInterrupted) {  // as in wait_locked
    lock_.release();
    throw_interruption();
  }
  return r.status != ParkStatus::kTimedOut;
}

void LockedBase::wake_getters(std::size_t n) noexcept { unpark_up_to(&getters_waiting_, n); }

void LockedBase::wake_putters(std::size_t n) noexcept { unpark_up_to(&putters_waiting_, n); }

void LockedBase::wake_joiners() noexcept { unpark_all(&joiners_waiting_); }

void LockedBase::wake_everyone(bool joiners) noexcept {
  unpark_all(&getters_waiting_);
  unpark_all(&putters_waiting_);
  if (joiners) unpark_all(&joiners_waiting_);
}

}  // namespace weft::detail
