// SPDX-License-Identifier: Apache-2.0
// weft/detail/queue_locked.hpp: the single-lock engine behind LifoQueue and PriorityQueue.
//
// QueueBase (queue_core.hpp: one weft::Lock, counters, protocol (Q1)/(Q2)/(S1)/(S2))
// plus an item store (queue_store.hpp). "put side" and "get side" are the same lock
// here. The public members are detail::BasicQueue's; everything here is called by it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/detail/hooks.hpp"
#include "weft/detail/queue_core.hpp"
#include "weft/detail/queue_store.hpp"
#include "weft/detail/thread_registry.hpp"
#include "weft/errors.hpp"

namespace weft::detail {

template <class T, class Store, bool kTasksV>
class LockedCore : public QueueBase {
 public:
  static constexpr bool kTasks = kTasksV;
  static constexpr bool kFifo = Store::kFifo;

 protected:
  LockedCore(std::size_t maxsize, std::string_view name) : QueueBase(maxsize, name) {}
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
    size_.store(depth, std::memory_order_relaxed);  // (Q1)
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
    size_.store(depth, std::memory_order_relaxed);  // (Q1)
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
    unfinished_.store(unfinished - 1, std::memory_order_relaxed);  // (Q1)
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
    shutdown_.store(true, std::memory_order_relaxed);  // (Q1)
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
