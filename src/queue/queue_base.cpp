// Queue slow paths: spin, park and wake. The typed fast paths are inline in
// weft/queue.hpp; the protocol (Q1)/(Q2)/(S1)/(S2) is described in
// weft/detail/queue_core.hpp.
#include <string>

#include "weft/detail/backoff.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/queue_core.hpp"

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

// Spins with lock released while `still_waiting` holds; true if it stopped holding.
template <class Pred>
bool spin_while(Lock& lock, Pred still_waiting, SourceLoc loc) {
  lock.release();
  Backoff backoff;
  bool changed = false;
  std::uint32_t rounds = 0;
  while (rounds++ < kQueueSpinRounds && backoff.spin()) {
    if (!still_waiting()) {
      changed = true;
      break;
    }
  }
  lock.acquire(true, loc);
  return changed;
}

bool passed(Deadline deadline) { return deadline != kForever && Clock::now() >= deadline; }

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
  const ParkResult r = park(&getters_waiting_, empty, deadline, WaitSite{this, ObjKind::queue, loc});
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

void QueueBase::wake_getters(std::size_t n) noexcept {
  if (n == 1) {
    unpark_one(&getters_waiting_);
  } else {
    unpark_n(&getters_waiting_, n);
  }
}

void QueueBase::wake_putters(std::size_t n) noexcept {
  if (n == 1) {
    unpark_one(&putters_waiting_);
  } else {
    unpark_n(&putters_waiting_, n);
  }
}

void QueueBase::wake_joiners() noexcept { unpark_all(&joiners_waiting_); }

void QueueBase::wake_everyone(bool joiners) noexcept {
  unpark_all(&getters_waiting_);
  unpark_all(&putters_waiting_);
  if (joiners) unpark_all(&joiners_waiting_);
}

void QueueBase::link_selector(SelectNode& node) noexcept {
  node.prev = nullptr;
  node.next = selectors_;
  if (selectors_ != nullptr) selectors_->prev = &node;
  selectors_ = &node;
}

void QueueBase::unlink_selector(SelectNode& node) noexcept {
  if (node.prev != nullptr) {
    node.prev->next = node.next;
  } else {
    selectors_ = node.next;
  }
  if (node.next != nullptr) node.next->prev = node.prev;
  node.prev = node.next = nullptr;
}

void QueueBase::notify_selectors() noexcept {
  for (SelectNode* n = selectors_; n != nullptr; n = n->next) notify_select_waiter(*n->waiter);
}

}  // namespace weft::detail
