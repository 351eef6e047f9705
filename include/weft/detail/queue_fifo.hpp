// SPDX-License-Identifier: Apache-2.0
// weft/detail/queue_fifo.hpp: the two-lock FIFO engine behind Queue and SimpleQueue.
//
// Michael and Scott's two-lock queue over a chain of fixed-size segments: putters
// serialise on put_lock_, getters on get_lock_, and the two sides meet only at two
// position counters (items ever put, items ever taken) and at the item slots.
//
// Layout. The put side (put_lock_, tail_pos_, the tail segment) and the get side
// (get_lock_, head_pos_, the head segment) live on two different cache lines, so a put
// and a get that run at the same time only share the line of the slot they touch and
// one read of the other side's position. A getter caches the last tail_pos_ it read
// (seen_tail_) and reads tail_pos_ again only when the cached items are used up; a
// bounded putter does the same with head_pos_ (seen_head_). qsize() = tail - head.
//
// Segments hold max(8, 512 / sizeof(T)) items and a next pointer. They are allocated by
// the put that needs one (a never-used queue owns no memory), and freed by the get that
// leaves one, except that one segment is kept as a spare (spare_, exchanged atomically
// by the two sides) so a queue that hovers around a segment boundary does not call
// malloc for every segment.
//
// Memory ordering (labelled pairs):
//   (QF1) a put constructs its item, then stores tail_pos_ with release; a get loads
//         tail_pos_ with acquire before it touches the slot (and a segment's next
//         pointer, written before the first item in that segment is published).
//   (QF2) a get moves its item out, then stores head_pos_ with release; a bounded put
//         loads head_pos_ with acquire before it counts the room.
//   (QF3) a getter that is about to park registers (++getters_waiting_) under put_lock_
//         and re-checks tail_pos_ / shutdown_ there; a put publishes tail_pos_ and reads
//         getters_waiting_ under put_lock_, then (after releasing it) unparks. The lock
//         orders the two: either the put sees the registration or the getter sees the
//         item. park()'s validate re-reads the positions under the bucket lock, which the
//         unparker's bucket lock orders after the put (as (QL2) in queue_locked.hpp).
//         Putters waiting for room do the same under get_lock_ with putters_waiting_.
//   (QF4) shutdown() sets shutdown_ holding both locks, so every (QF3) re-check sees it.
//   (QJ1) join registers with a seq_cst RMW on joiners_waiting_, then loads done_ and
//         tail_pos_; (QJ2) task_done (and shutdown(true)) update done_ with a seq_cst RMW,
//         then load joiners_waiting_: one of the two sees the other (Dekker).
//   The unfinished-task count is tail_pos_ - done_: a put costs no extra atomic RMW.
//
// Lock order: put_lock_ before get_lock_; only shutdown() holds both. Every other path
// holds at most one of them (a getter registering under put_lock_ has released
// get_lock_ first).
//
// Select. A select that finds the queue empty releases get_lock_, links its node under
// put_lock_ and re-checks the positions and shutdown_ there; if the queue is no longer
// empty it marks its own waiter notified, so it polls again instead of sleeping. Puts
// notify linked selects under put_lock_ (SN1), so a node is never notified after its
// select unlinked it (unlinking also takes put_lock_).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/select_node.hpp"
#include "weft/detail/thread_registry.hpp"
#include "weft/errors.hpp"
#include "weft/lock.hpp"

namespace weft::detail {

// A segment's link; the typed slots follow it (FifoCore::Segment).
struct FifoSegment {
  FifoSegment* next = nullptr;
};

// What the waiters of one side of a FIFO share while they spin with no lock held
// (src/queue/queue_wait.hpp): how many spin right now (a hint: it wraps harmlessly past
// 65535) and whether that side's last wait was short.
struct FifoSpinState {
  std::atomic<std::uint16_t> spinning{0};
  std::atomic<bool> last_wait_short{false};
};

// The part of the two-lock FIFO that does not depend on the item type.
class FifoBase {
 public:
  FifoBase(const FifoBase&) = delete;
  FifoBase& operator=(const FifoBase&) = delete;

 protected:
  FifoBase(std::size_t maxsize, std::string_view name);
  ~FifoBase();

  void name_queue(std::string_view name);

  // At exit, daemon threads may still be inside this queue or call it again after its
  // destructor (the Python pattern of a module-level queue and daemon workers). Takes
  // both locks for good: a thread inside finishes its step, and every later call
  // blocks forever on a lock in the object's (static) storage instead of touching the
  // segments the destructor frees.
  WEFT_COLD void seal_for_exit();

  // wait_getter is called with get_lock_ held, wait_putter with put_lock_ held; both
  // return with it held. Each spins briefly (no lock held), then registers (QF3) and
  // parks until woken or `deadline`. Returns false only when the deadline passed; the
  // caller re-checks the state either way. Throws what an interrupt means (#13) with
  // that lock released and nothing taken or put.
  WEFT_NOINLINE bool wait_getter(Deadline deadline, SourceLoc loc);
  WEFT_NOINLINE bool wait_putter(Deadline deadline, SourceLoc loc);

  // Unparks up to n parked getters / putters. Called with no lock held.
  WEFT_NOINLINE void wake_getters(std::size_t n) noexcept;
  WEFT_NOINLINE void wake_putters(std::size_t n) noexcept;
  // Unparks every getter, putter and (if `joiners`) joiner. Called with no lock held.
  WEFT_NOINLINE void wake_everyone(bool joiners) noexcept;

  // task_done / join (QJ1)/(QJ2). No queue lock is taken.
  void task_done_core(SourceLoc loc);
  WEFT_NOINLINE bool join_core(Deadline deadline, SourceLoc loc);

  // Select: called with get_lock_ held and the queue empty and not shut down; releases
  // get_lock_, links `node` under put_lock_ (see the header comment).
  WEFT_NOINLINE void select_link(SelectNode& node, SourceLoc loc);
  WEFT_NOINLINE void select_unlink(SelectNode& node, SourceLoc loc);

  // Snapshot of the number of queued items: head first, then tail, so it never
  // underflows ((QF2): a head value was published after a tail value at least as big).
  std::size_t size_now() const noexcept {
    const std::uint64_t h = head_pos_.load(std::memory_order_acquire);
    const std::uint64_t t = tail_pos_.load(std::memory_order_relaxed);
    return static_cast<std::size_t>(t - h);
  }
  bool is_shut() const noexcept { return shutdown_.load(std::memory_order_relaxed); }

  // ---- put side: one cache line, written by putters -------------------------------------
  // maxsize_ comes first so that put_lock_ does not share the queue's address: the
  // debug tools tell objects apart by address.
  alignas(64) std::size_t maxsize_;           // 0: unbounded
  InternalLock put_lock_;                            // serialises putters; guards this line
  std::uint8_t named_ = 0;                    // registered with the debug tools
  std::atomic<bool> shutdown_{false};         // set under both locks (QF4)
  std::atomic<std::uint32_t> getters_waiting_{0};  // (QF3) ++ under put_lock_; parking key
  std::atomic<std::uint64_t> tail_pos_{0};    // items ever put (QF1); FIFO trace sequence
  std::uint64_t seen_head_ = 0;               // a recent head_pos_ (bounded puts)
  FifoSegment* tail_seg_ = nullptr;           // segment the next put writes into
  std::size_t tail_idx_ = 0;                  //   and the slot in it
  SelectorList selectors_;                    // select calls watching this queue
  FifoSpinState putters_spin_;                // putters spinning for room (queue_wait.hpp)

  // ---- get side: one cache line, written by getters -------------------------------------
  alignas(64) InternalLock get_lock_;                // serialises getters; guards this line
  std::atomic<std::uint32_t> putters_waiting_{0};  // (QF3) ++ under get_lock_; parking key
  std::atomic<std::uint32_t> joiners_waiting_{0};  // (QJ1); parking key
  FifoSpinState getters_spin_;                // getters spinning for an item (queue_wait.hpp)
  std::atomic<std::uint64_t> head_pos_{0};    // items ever taken (QF2)
  std::uint64_t seen_tail_ = 0;               // a recent tail_pos_
  std::atomic<std::uint64_t> done_{0};        // task_done calls + items shutdown(true) removed
  FifoSegment* head_seg_ = nullptr;           // segment of the next item to get; set by the
                                              //   first put, before (QF1) publishes it
  std::size_t head_idx_ = 0;                  //   and its slot
  std::atomic<FifoSegment*> spare_{nullptr};  // one cached free segment

 private:
  bool getter_empty() const noexcept;
  bool putter_full() const noexcept;
  bool unfinished() const noexcept;
};

/// The typed two-lock FIFO engine (see the header comment). kTasks: Queue (maxsize,
/// task_done / join, shutdown) or SimpleQueue (none of those). The public members are
/// detail::BasicQueue's; everything here is called by BasicQueue.
template <class T, bool kTasksV>
class FifoCore : public FifoBase {
 public:
  static constexpr bool kTasks = kTasksV;
  static constexpr bool kFifo = true;

 protected:
  static constexpr std::size_t kSegItems = 512 / sizeof(T) < 8 ? 8 : 512 / sizeof(T);

  struct Segment final : FifoSegment {
    Segment() noexcept {}  // slots start unconstructed
    ~Segment() {}
    union {
      T items[kSegItems];
    };
  };

  FifoCore(std::size_t maxsize, std::string_view name) : FifoBase(maxsize, name) {}
  FifoCore(const FifoCore&) = delete;
  FifoCore& operator=(const FifoCore&) = delete;

  ~FifoCore() {
    if (WEFT_UNLIKELY(exit_began())) seal_for_exit();
    for (std::size_t n = size_now(); n != 0; --n) {
      front_slot().~T();
      ++head_idx_;
    }
    for (FifoSegment* s = head_seg_; s != nullptr;) {
      FifoSegment* next = s->next;
      delete static_cast<Segment*>(s);
      s = next;
    }
    delete static_cast<Segment*>(spare_.load(std::memory_order_relaxed));
  }

  // A SimpleQueue is never shut down: its calls skip the check.
  bool is_shut() const noexcept {
    if constexpr (kTasks) return FifoBase::is_shut();
    return false;
  }

  // ---- put side (put_lock_) ---------------------------------------------------------------
  void put_lock(SourceLoc loc) { put_lock_.acquire(true, loc); }
  void put_unlock() { put_lock_.release(); }

  // With put_lock_ held: how many more items fit (SIZE_MAX if unbounded), exact up to
  // `want` (the cached head position is re-read only when it shows less room).
  std::size_t put_room(std::size_t want) noexcept {
    if (maxsize_ == 0) return static_cast<std::size_t>(-1);
    const std::uint64_t t = tail_pos_.load(std::memory_order_relaxed);
    if (t - seen_head_ + want > maxsize_) seen_head_ = head_pos_.load(std::memory_order_acquire);  // (QF2)
    const std::uint64_t used = t - seen_head_;
    return used >= maxsize_ ? 0 : static_cast<std::size_t>(maxsize_ - used);
  }

  // With put_lock_ held: constructs the item in the next slot (not yet published).
  // If T's move constructor throws, nothing changed but maybe a linked empty segment.
  void push(T&& item) {
    if (WEFT_UNLIKELY(tail_seg_ == nullptr || tail_idx_ == kSegItems)) add_segment();
    ::new (static_cast<void*>(&seg(tail_seg_)->items[tail_idx_])) T(std::move(item));
    ++tail_idx_;
  }

  // With put_lock_ held and `count` items pushed: publishes them (QF1), notifies selects,
  // releases put_lock_ and wakes up to `count` parked getters.
  void publish_put(std::size_t count) {
    const std::uint64_t t = tail_pos_.load(std::memory_order_relaxed);
    // Before (QF1), so that the trace shows each put before the get that takes its item.
    if (debug_on()) {
      const std::uint64_t h = head_pos_.load(std::memory_order_relaxed);
      for (std::size_t i = 1; i <= count; ++i)
        hooks::queue_put(this, static_cast<std::size_t>(t + i - std::min(h, t + i)), t + i);
    }
    tail_pos_.store(t + count, std::memory_order_release);                 // (QF1)
    const std::uint32_t getters = getters_waiting_.load(std::memory_order_relaxed);  // (QF3)
    if (WEFT_UNLIKELY(selectors_.head != nullptr)) selectors_.notify();  // (SN1)
    put_lock_.release();
    if (getters != 0) wake_getters(std::min<std::size_t>(getters, count));
  }

  // ---- get side (get_lock_) -----------------------------------------------------------------
  void get_lock(SourceLoc loc) { get_lock_.acquire(true, loc); }
  void get_unlock() { get_lock_.release(); }

  // With get_lock_ held: how many items can be taken now, exact up to `want` (the
  // cached tail position is re-read only when it shows fewer items).
  std::size_t get_available(std::size_t want) noexcept {
    const std::uint64_t h = head_pos_.load(std::memory_order_relaxed);
    if (seen_tail_ - h < want) seen_tail_ = tail_pos_.load(std::memory_order_acquire);  // (QF1)
    return static_cast<std::size_t>(seen_tail_ - h);
  }

  // With get_lock_ held and an item available: moves the front item out. If T's move
  // constructor throws, the item stays queued.
  void pop_into(std::optional<T>& out) {
    T& slot = front_slot();
    out.emplace(std::move(slot));
    slot.~T();
    ++head_idx_;
  }
  void pop_append(std::vector<T>& out) {
    T& slot = front_slot();
    out.push_back(std::move(slot));
    slot.~T();
    ++head_idx_;
  }

  // With get_lock_ held and `count` items popped: publishes (QF2), releases get_lock_,
  // wakes up to `count` parked putters.
  void publish_get(std::size_t count) {
    const std::uint64_t h = head_pos_.load(std::memory_order_relaxed) + count;
    head_pos_.store(h, std::memory_order_release);                         // (QF2)
    const std::uint32_t putters = putters_waiting_.load(std::memory_order_relaxed);  // (QF3)
    if (debug_on()) get_hooks(h, count);
    get_lock_.release();
    if (putters != 0) wake_putters(std::min<std::size_t>(putters, count));
  }

  // ---- shutdown (both locks) -----------------------------------------------------------------
  std::vector<T> shutdown_core(bool immediate, SourceLoc loc) {
    std::vector<T> drained;
    std::exception_ptr failure;
    put_lock_.acquire(true, loc);  // lock order: put_lock_, then get_lock_
    get_lock_.acquire(true, loc);
    shutdown_.store(true, std::memory_order_relaxed);  // (QF4)
    bool joiners = false;
    if (immediate) {
      const std::size_t n = get_available(static_cast<std::size_t>(-1));
      try {
        drained.reserve(n);
        for (std::size_t i = 0; i < n; ++i) pop_append(drained);
      } catch (...) {
        failure = std::current_exception();  // the rest stay queued (see Queue::shutdown)
      }
      const std::size_t taken = drained.size();
      joiners = count_done(taken);
      if (debug_on()) get_hooks(head_pos_.load(std::memory_order_relaxed) + taken, taken);
      head_pos_.store(head_pos_.load(std::memory_order_relaxed) + taken, std::memory_order_release);
    }
    const bool others = getters_waiting_.load(std::memory_order_relaxed) != 0 ||
                        putters_waiting_.load(std::memory_order_relaxed) != 0;
    if (selectors_.head != nullptr) selectors_.notify();
    get_lock_.release();
    put_lock_.release();
    if (others || joiners) wake_everyone(joiners);
    if (failure && drained.empty()) std::rethrow_exception(failure);
    return drained;
  }

 private:
  static Segment* seg(FifoSegment* s) noexcept { return static_cast<Segment*>(s); }

  // The slot of the front item, stepping into the next segment (and recycling the one
  // left) when the current one is used up.
  T& front_slot() noexcept {
    if (WEFT_UNLIKELY(head_idx_ == kSegItems)) {
      FifoSegment* old = head_seg_;
      head_seg_ = old->next;  // written before (QF1) published its first item
      head_idx_ = 0;
      FifoSegment* none = nullptr;
      if (!spare_.compare_exchange_strong(none, old, std::memory_order_release,
                                          std::memory_order_relaxed))
        delete seg(old);
    }
    return seg(head_seg_)->items[head_idx_];
  }

  WEFT_NOINLINE void add_segment() {
    FifoSegment* s = spare_.exchange(nullptr, std::memory_order_acquire);
    if (s == nullptr) s = new Segment;
    s->next = nullptr;
    if (tail_seg_ != nullptr) {
      tail_seg_->next = s;
    } else {
      head_seg_ = s;  // the first put: getters read head_seg_ only after (QF1)
    }
    tail_seg_ = s;
    tail_idx_ = 0;
  }

  // Counts `n` removed items done for join() (at most the unfinished ones). True if
  // that finished every task and a joiner is registered (QJ2).
  bool count_done(std::size_t n) noexcept {
    const std::uint64_t t = tail_pos_.load(std::memory_order_relaxed);
    std::uint64_t d = done_.load(std::memory_order_relaxed);
    std::uint64_t to = 0;
    do {
      to = d + std::min<std::uint64_t>(t - d, n);
    } while (!done_.compare_exchange_weak(d, to, std::memory_order_seq_cst,
                                          std::memory_order_relaxed));
    return to == t && joiners_waiting_.load(std::memory_order_seq_cst) != 0;  // (QJ2)
  }

  // Trace hooks for the `count` items that end at position h (with get_lock_ held).
  void get_hooks(std::uint64_t h, std::size_t count) noexcept {
    const std::uint64_t t = tail_pos_.load(std::memory_order_relaxed);
    for (std::uint64_t seq = h - count + 1; seq <= h; ++seq)
      hooks::queue_get(this, static_cast<std::size_t>(t - std::min(t, seq)), seq);
  }
};

}  // namespace weft::detail
