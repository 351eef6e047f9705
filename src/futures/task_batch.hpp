// SPDX-License-Identifier: Apache-2.0
// TaskBatch (L4 internals): the queued tasks one ThreadPoolExecutor worker took from the
// shared queue in one visit, beyond the one it runs first (see (TP7) in thread_pool_core.hpp).
//
// Contract:
//   (B1) Each filled slot holds one reference of a task. Whoever empties a slot with an
//        exchange -- the owner running its batch, a thief, shutdown or break_pool
//        draining it -- owns that reference; so every task is taken exactly once: none is
//        lost, none runs twice.
//   (B2) Only the owning worker fills its batch (fill(), under the pool's lock_, when its
//        earlier batch is used up). The pool publishes the filled slots with the
//        seq_cst decrement of its queued count that follows the fill: a thread that
//        reads that count (seq_cst) before it scans the slots (any()) sees them, or read
//        an older count that still included these tasks (see has_work() in
//        thread_pool.cpp).
//   (B3) Tasks stay pending while batched: Future::cancel() cancels one, and whoever
//        takes it then finds it not claimable (execute() is false) and only releases it.
//   (B4) take_next() gives the owner its tasks in FIFO order; steal() gives any thread
//        the oldest one still there.
//   (B5) progress() changes whenever take_next() gives the owner a task: a thief that
//        sees it unchanged across one of its own visits to the queue while tasks are
//        left knows the owner is stuck in one task (see (TP7)).
// One cache line: the owner writes it once per task (its exchange), thieves only touch
// it when they have nothing else to do.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "weft/detail/future_state.hpp"

namespace weft::detail {

class alignas(64) TaskBatch {
 public:
  static constexpr std::uint32_t kCapacity = 7;  // plus the task its owner runs first: 8

  // (B2) Owner, under the pool's lock_, with every slot empty: the n (<= kCapacity)
  // tasks task_at(0), ..., task_at(n - 1), taking over one reference of each.
  template <class TaskAt>
  void fill(std::uint32_t n, TaskAt task_at) noexcept {
    for (std::uint32_t i = 0; i < n; ++i) slots_[i].store(task_at(i), std::memory_order_relaxed);
    next_ = 0;
    count_ = static_cast<std::uint16_t>(n);
  }

  // (B4) Owner: its next task still in the batch, or null once the batch is used up.
  FutureStateBase* take_next() noexcept {
    while (next_ < count_) {
      if (FutureStateBase* t = slots_[next_++].exchange(nullptr, std::memory_order_acq_rel)) {
        progress_.store(progress_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return t;
      }
    }
    return nullptr;
  }
  // Owner: false once take_next() has passed every slot it filled (some may have been
  // stolen: then it is true a little longer than needed).
  bool owner_has_more() const noexcept { return next_ < count_; }

  // (B5) Any thread.
  std::uint32_t progress() const noexcept { return progress_.load(std::memory_order_relaxed); }

  // (B4) Any thread: the oldest task still in the batch, or null.
  FutureStateBase* steal() noexcept {
    for (auto& slot : slots_) {
      if (slot.load(std::memory_order_relaxed) == nullptr) continue;
      if (FutureStateBase* t = slot.exchange(nullptr, std::memory_order_acq_rel)) return t;
    }
    return nullptr;
  }

  // (B2) Any thread: some task is still in the batch.
  bool any() const noexcept {
    for (const auto& slot : slots_)
      if (slot.load(std::memory_order_seq_cst) != nullptr) return true;
    return false;
  }

  // (B1) Any thread: takes every task still in the batch and links them from `list`
  // through next_ (the taker owns each one's reference).
  void drain_into(FutureStateBase*& list) noexcept {
    for (auto& slot : slots_) {
      if (FutureStateBase* t = slot.exchange(nullptr, std::memory_order_acq_rel)) {
        t->next_ = list;
        list = t;
      }
    }
  }

 private:
  std::array<std::atomic<FutureStateBase*>, kCapacity> slots_{};
  std::atomic<std::uint32_t> progress_{0};  // (B5) written by the owner only
  std::uint16_t next_ = 0;   // owner only: the next slot take_next() looks at
  std::uint16_t count_ = 0;  // owner only: slots filled by the last fill()
};
static_assert(sizeof(TaskBatch) == 64);

}  // namespace weft::detail
