// SPDX-License-Identifier: Apache-2.0
// TaskFifo (L4 internals): ThreadPoolExecutor's shared queue -- the queued tasks'
// pointers (each with how many cache lines its state spans) in fixed-size segments,
// first in, first out. Not thread-safe: the pool's lock_ guards it.
//
// Contract:
//   (Q1) push() appends an entry (the queue then owns one reference of the task), or
//        throws std::bad_alloc and leaves the queue unchanged when it needs a segment
//        and none can be allocated.
//   (Q2) pop() removes and returns the oldest entry; the queue must not be empty.
//   (Q3) Taking tasks reads consecutive entries (eight to a cache line), never the tasks'
//        own memory: a worker that takes a batch does not pull the states' lines one
//        after the other while it holds the pool's lock; it prefetches them afterwards,
//        all at once, from the line counts stored in the entries.
//   (Q4) Memory: an empty queue keeps its current segment and restarts at its front.
//        An emptied segment stays with its queue for the next ones (so a queue holds at
//        most the segments of its longest backlog, and workers never free memory the
//        submitter allocated); when the queue is destroyed its segments go to a cache
//        that every pool of the process shares, up to kCachedSegments (1 MiB; the rest
//        are freed), so the next pool's burst takes memory an earlier one used instead
//        of faulting fresh pages in (task_fifo.cpp).
// Layout: 32 bytes, which the pool keeps on the cache line its lock_ is on.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <cstddef>
#include <cstdint>

#include "prefetch.hpp"
#include "weft/detail/future_state.hpp"

namespace weft::detail {

class TaskFifo {
 public:
  // A queued task: its state's address, and in the low bits (free: states are 8-byte
  // aligned) how many cache lines the state spans beyond its first, at most 3.
  class Entry {
   public:
    Entry() = default;
    explicit Entry(FutureStateBase* t) noexcept
        : bits_(reinterpret_cast<std::uintptr_t>(t) | extra_lines(t)) {}
    FutureStateBase* task() const noexcept {
      return reinterpret_cast<FutureStateBase*>(bits_ & ~kLineBits);
    }
    // (Q3) The state's lines, for writing (touches no memory).
    void prefetch() const noexcept { prefetch_lines_for_write(task(), 1 + (bits_ & kLineBits)); }

   private:
    static constexpr std::uintptr_t kLineBits = 3;
    static_assert(alignof(FutureStateBase) > kLineBits);
    static std::uintptr_t extra_lines(const FutureStateBase* t) noexcept {
      const std::uintptr_t offset = reinterpret_cast<std::uintptr_t>(t) % 64;
      const std::uintptr_t bytes = t->state_bytes_ != 0 ? t->state_bytes_ : 1;
      return std::min<std::uintptr_t>(kLineBits, (offset + bytes - 1) / 64);
    }
    std::uintptr_t bits_ = 0;
  };

  // (Q3) Entry::prefetch() of each of the n entries.
  static void prefetch(const Entry* entries, std::uint32_t n) noexcept {
    for (std::uint32_t i = 0; i < n; ++i) entries[i].prefetch();
  }

  static constexpr std::uint32_t kSlots = 511;  // a segment is 4 KiB
  struct Segment {
    Segment* next = nullptr;
    Entry slots[kSlots];
  };

  TaskFifo() = default;
  TaskFifo(const TaskFifo&) = delete;
  TaskFifo& operator=(const TaskFifo&) = delete;
  ~TaskFifo() {
    for (Segment* list : {head_, spare_}) {
      while (list != nullptr) {
        Segment* next = list->next;
        free_segment(list);
        list = next;
      }
    }
  }

  bool empty() const noexcept { return head_ == tail_ && head_index_ == tail_index_; }

  // (Q1)
  void push(FutureStateBase* t) {
    if (tail_ == nullptr || tail_index_ == kSlots) grow();
    tail_->slots[tail_index_++] = Entry(t);
  }

  // (Q2)
  Entry pop() noexcept {
    Entry e;
    pop_many(&e, 1);
    return e;
  }

  // (Q2) Removes the n oldest entries into out[0..n), oldest first; the queue must hold
  // at least n.
  void pop_many(Entry* out, std::uint32_t n) noexcept {
    while (n != 0) {
      if (head_index_ == kSlots) {
        Segment* used = head_;
        head_ = used->next;
        head_index_ = 0;
        used->next = spare_;  // (Q4)
        spare_ = used;
      }
      const std::uint32_t end = head_ == tail_ ? tail_index_ : kSlots;
      const std::uint32_t k = std::min(n, end - head_index_);
      for (std::uint32_t i = 0; i < k; ++i) *out++ = head_->slots[head_index_ + i];
      head_index_ += k;
      n -= k;
    }
    if (empty()) head_index_ = tail_index_ = 0;  // (Q4)
  }

  // Empties the queue: its tasks linked from the returned head through next_, oldest
  // first (the caller owns each one's reference).
  FutureStateBase* take_all() noexcept {
    FutureStateBase* first = nullptr;
    FutureStateBase** link = &first;
    while (!empty()) {
      FutureStateBase* t = pop().task();
      *link = t;
      link = &t->next_;
    }
    *link = nullptr;
    return first;
  }

 private:
  static constexpr std::size_t kCachedSegments = 256;
  // (Q4) From the process's cache, else allocated (std::bad_alloc); next is null.
  static Segment* new_segment();
  static void free_segment(Segment* s) noexcept;

  void grow() {
    Segment* s = spare_;
    if (s != nullptr) {
      spare_ = s->next;
      s->next = nullptr;
    } else {
      s = new_segment();  // std::bad_alloc: nothing changed (Q1)
    }
    if (tail_ == nullptr) {
      head_ = s;
      head_index_ = 0;
    } else {
      tail_->next = s;
    }
    tail_ = s;
    tail_index_ = 0;
  }

  Segment* head_ = nullptr;  // oldest entry at slots[head_index_]
  Segment* tail_ = nullptr;  // next push at slots[tail_index_]
  std::uint32_t head_index_ = 0;
  std::uint32_t tail_index_ = 0;
  Segment* spare_ = nullptr;  // (Q4) emptied segments, linked through next
};
static_assert(sizeof(TaskFifo) == 32);

}  // namespace weft::detail
