// SPDX-License-Identifier: Apache-2.0
// weft/detail/queue_locked.hpp: the single-lock engine behind LifoQueue and PriorityQueue.
//
// LockedBase (one weft::Lock, the counters, the wait and wake paths) plus an item store
// (queue_store.hpp) make LockedCore. "put side" and "get side" are the same lock here.
// The public members are detail::BasicQueue's (<weft/queue.hpp>); everything here is
// called by it. The two-lock FIFO engine (Queue, SimpleQueue) is queue_fifo.hpp.
//
// Waiting. Getters, putters and joiners park in the parking lot on three distinct keys
// (the addresses of their waiter counters). A waiter registers (++count) under lock_,
// releases it and parks; park()'s validate re-reads the atomic mirrors size_ /
// shutdown_ / unfinished_ under the bucket lock, so a put that happened in between is
// never missed:
//   (QL1) put / get / shutdown / task_done update size_, shutdown_, unfinished_ under
//         lock_, then read the waiter count, then (after releasing lock_) unpark.
//   (QL2) validate loads the mirror under the bucket lock; the unparker's bucket lock
//         acquire/release orders (QL1) before it, so either the waiter is already queued
//         (and unparked) or validate sees the new value and does not sleep.
// Nobody waiting means no unpark call at all: a put into a queue without waiting getters
// costs the lock and a few plain stores.
//
// Select. A select call links its SelectNode into selectors_ under lock_; every put and
// shutdown notifies the linked nodes while still holding lock_ ((SN1)/(SN2) in
// select_node.hpp).
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
#include "weft/detail/queue_store.hpp"
#include "weft/detail/select_node.hpp"
#include "weft/detail/thread_registry.hpp"
#include "weft/errors.hpp"
#include "weft/lock.hpp"

namespace weft::detail {

// What the single-lock engine keeps that does not depend on the item type: the lock,
// the counters, the shutdown flag, the select registrations and the out-of-line wait
// and wake paths (src/queue/queue_locked.cpp).
class LockedBase {
 public:
  LockedBase(const LockedBase&) = delete;
  LockedBase& operator=(const LockedBase&) = delete;

 protected:
  LockedBase(std::size_t maxsize, std::string_view name);
  ~LockedBase();

  void name_queue(std::string_view name);
  // At exit: takes lock_ for good (see FifoBase::seal_for_exit).
  WEFT_COLD void seal_for_exit();

  // Each wait_* is called with lock_ held and returns with it held. It spins briefly
  // (lock released), then parks until woken or `deadline`. Returns false only when the
  // deadline passed; the caller re-checks the state either way. Throws what an
  // interrupt means (#13) with lock_ released and nothing taken or put.
  WEFT_NOINLINE bool wait_getter(Deadline deadline, SourceLoc loc);
  WEFT_NOINLINE bool wait_putter(Deadline deadline, SourceLoc loc);
  WEFT_NOINLINE bool wait_joiner(Deadline deadline, SourceLoc loc);

  // Unparks up to n parked getters / putters, or all joiners. Called without lock_.
  WEFT_NOINLINE void wake_getters(std::size_t n) noexcept;
  WEFT_NOINLINE void wake_putters(std::size_t n) noexcept;
  WEFT_NOINLINE void wake_joiners() noexcept;
  // Unparks every getter and putter (shutdown). Called without lock_.
  WEFT_NOINLINE void wake_everyone(bool joiners) noexcept;

  // size_ comes first so that lock_ does not share the queue's address: the debug
  // tools tell objects apart by address.
  std::atomic<std::size_t> size_{0};     // number of items; written under lock_ (QL1)
  InternalLock lock_;                            // guards everything below, and the items
  std::atomic<bool> shutdown_{false};    // written under lock_; mirror for validate (QL2)
  std::uint8_t named_ = 0;               // registered with the debug tools
  std::uint32_t getters_waiting_ = 0;    // threads between register and deregister
  std::uint32_t putters_waiting_ = 0;    //   (their addresses are the parking keys)
  std::uint32_t joiners_waiting_ = 0;
  std::atomic<std::size_t> unfinished_{0};  // put but not task_done; written under lock_
  std::size_t maxsize_;                  // 0: unbounded
  std::uint64_t put_seq_ = 0;            // items ever put / got: pairs a put with its get
  std::uint64_t get_seq_ = 0;            //   in traces (FIFO queues)
  SelectorList selectors_;               // select calls watching this queue
};

template <class T, class Store, bool kTasksV>
class LockedCore : public LockedBase {
 public:
  static constexpr bool kTasks = kTasksV;
  static constexpr bool kFifo = Store::kFifo;

 protected:
  LockedCore(std::size_t maxsize, std::string_view name) : LockedBase(maxsize, name) {}
  ~LockedCore() {
    if (WEFT_UNLIKELY(exit_began())) seal_for_exit();
  }

  void put_lock(SourceLoc loc) { lock_.acquire(true, loc); }
  void put_unlock() { lock_.release(); }
  std::size_t put_room(std::size_t /*want*/) const noexcept {
    return maxsize_ == 0 ? static_cast<std::size_t>(-1) : maxsize_ - store_.size();
  }
  void push(T&& item) { store_.push(std::move(item)); }

  // With lock_ held and `count` items pushed: publishes, releases lock_, wakes.
  void publish_put(std::size_t count) {
    const std::size_t depth = store_.size();
    size_.store(depth, std::memory_order_relaxed);  // (QL1)
    if constexpr (kTasks)
      unfinished_.store(unfinished_.load(std::memory_order_relaxed) + count,
                        std::memory_order_relaxed);
    put_seq_ += count;
    const std::uint64_t last_seq = put_seq_;
    const std::uint32_t getters = getters_waiting_;
    if (WEFT_UNLIKELY(selectors_.head != nullptr)) selectors_.notify();
    // Under lock_, so that the trace orders each put before the get that took its item.
    if (debug_on()) {
      for (std::size_t i = 0; i < count; ++i)
        hooks::queue_put(this, depth - count + i + 1, kFifo ? last_seq - count + i + 1 : 0);
    }
    lock_.release();
    if (getters != 0) wake_getters(std::min<std::size_t>(getters, count));
  }

  void get_lock(SourceLoc loc) { lock_.acquire(true, loc); }
  void get_unlock() { lock_.release(); }
  std::size_t get_available(std::size_t /*want*/) const noexcept { return store_.size(); }
  void pop_into(std::optional<T>& out) { store_.pop_into(out); }
  void pop_append(std::vector<T>& out) { store_.pop_append(out); }

  void publish_get(std::size_t count) {
    const std::size_t depth = store_.size();
    size_.store(depth, std::memory_order_relaxed);  // (QL1)
    get_seq_ += count;
    const std::uint64_t last_seq = get_seq_;
    const std::uint32_t putters = putters_waiting_;
    if (debug_on()) {  // under lock_: see publish_put
      for (std::size_t i = 0; i < count; ++i)
        hooks::queue_get(this, depth + count - i - 1, kFifo ? last_seq - count + i + 1 : 0);
    }
    lock_.release();
    if (putters != 0) wake_putters(std::min<std::size_t>(putters, count));
  }

  std::size_t size_now() const noexcept { return size_.load(std::memory_order_relaxed); }
  bool is_shut() const noexcept { return shutdown_.load(std::memory_order_relaxed); }

  void task_done_core(SourceLoc loc) {
    lock_.acquire(true, loc);
    const std::size_t unfinished = unfinished_.load(std::memory_order_relaxed);
    if (unfinished == 0) {
      lock_.release();
      throw ValueError("task_done() called too many times");
    }
    unfinished_.store(unfinished - 1, std::memory_order_relaxed);  // (QL1)
    const bool wake = unfinished == 1 && joiners_waiting_ != 0;
    lock_.release();
    if (wake) wake_joiners();
  }

  bool join_core(Deadline deadline, SourceLoc loc) {
    lock_.acquire(true, loc);
    while (unfinished_.load(std::memory_order_relaxed) != 0) {
      if (deadline == kImmediate || !wait_joiner(deadline, loc)) {
        const bool done = unfinished_.load(std::memory_order_relaxed) == 0;
        lock_.release();
        return done;
      }
    }
    lock_.release();
    return true;
  }

  std::vector<T> shutdown_core(bool immediate, SourceLoc loc) {
    std::vector<T> drained;
    std::exception_ptr failure;
    lock_.acquire(true, loc);
    shutdown_.store(true, std::memory_order_relaxed);  // (QL1)
    bool joiners = false;
    if (immediate) {
      try {
        store_.drain_into(drained);
      } catch (...) {
        failure = std::current_exception();  // the rest stay queued (see Queue::shutdown)
      }
      get_seq_ += drained.size();
      size_.store(store_.size(), std::memory_order_relaxed);
      const std::size_t unfinished = unfinished_.load(std::memory_order_relaxed);
      unfinished_.store(unfinished - std::min(unfinished, drained.size()),
                        std::memory_order_relaxed);
      joiners = joiners_waiting_ != 0;
    }
    const bool others = getters_waiting_ != 0 || putters_waiting_ != 0;
    if (selectors_.head != nullptr) selectors_.notify();
    const std::uint64_t first_seq = get_seq_ - drained.size();
    // Under lock_, so that the trace orders each put before the get that took its item.
    if (debug_on() && kFifo) {
      for (std::size_t i = 0; i < drained.size(); ++i)
        hooks::queue_get(this, drained.size() - i - 1, first_seq + i + 1);
    }
    lock_.release();
    if (others || joiners) wake_everyone(joiners);
    if (failure && drained.empty()) std::rethrow_exception(failure);
    return drained;
  }

  // Select: called with lock_ held, the queue empty and not shut down; links and releases.
  void select_link(SelectNode& node, SourceLoc) {
    selectors_.link(node);
    lock_.release();
  }
  void select_unlink(SelectNode& node, SourceLoc loc) {
    lock_.acquire(true, loc);
    selectors_.unlink(node);
    lock_.release();
  }

  Store store_;
};

}  // namespace weft::detail
