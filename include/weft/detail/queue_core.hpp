// SPDX-License-Identifier: Apache-2.0
// weft/detail/queue_core.hpp: what every weft queue shares, and the single-lock engine.
//
// Two engines implement the queues (the public members, shared, are
// weft::detail::BasicQueue in <weft/queue.hpp>):
//   - the single-lock engine (LifoQueue, PriorityQueue): QueueBase below holds what does
//     not depend on the item type: one weft::Lock guarding everything, the counters, the
//     shutdown flag, the select registrations and the out-of-line wait / wake paths
//     (src/queue/queue_base.cpp); detail::LockedCore (queue_locked.hpp) adds the store;
//   - the two-lock FIFO (Queue, SimpleQueue): detail::FifoBase / FifoCore in
//     queue_fifo.hpp, with its own protocol (F1)-(F4), (J1)/(J2).
// The rest of this comment describes the single-lock engine.
//
// Waiting. Getters, putters and joiners park in the parking lot on three distinct keys
// (the addresses of their waiter counters). A waiter registers (++count) under lock_,
// releases it and parks; park()'s validate re-reads the atomic mirrors size_ /
// shutdown_ / unfinished_ under the bucket lock, so a put that happened in between is
// never missed:
//   (Q1) put / get / shutdown / task_done update size_, shutdown_, unfinished_ under
//        lock_, then read the waiter count, then (after releasing lock_) unpark.
//   (Q2) validate loads the mirror under the bucket lock; the unparker's bucket lock
//        acquire/release orders (Q1) before it, so either the waiter is already queued
//        (and unparked) or validate sees the new value and does not sleep.
// Nobody waiting means no unpark call at all: a put into a queue without waiting getters
// costs the lock and a few plain stores.
//
// Select. A select call registers a SelectNode on every queue it watches (under that
// queue's lock) and parks on its own SelectWaiter. Every put and shutdown sets the
// waiter's flag and unparks it while still holding lock_ (so the node cannot be
// unlinked and its frame destroyed meanwhile) (S1); the select call re-checks the flag
// in validate (S2).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/lock.hpp"

namespace weft::detail {

// Outcome of a queue operation before it is turned into a value or an exception.
enum class QStatus : std::uint8_t { ok, empty, full, shutdown };

// One select call waiting on several sources.
struct SelectWaiter {
  std::atomic<std::uint32_t> notified{0};  // (S1) set by notifiers, (S2) read by validate
};

// The link of one select call into one source's list (intrusive, lives in the call's frame).
struct SelectNode {
  SelectWaiter* waiter = nullptr;
  SelectNode* prev = nullptr;
  SelectNode* next = nullptr;
  const void* key = nullptr;  // Event sources: the Event (see queue_select.hpp)
  bool fired = false;         // Event sources: set() ran while linked
};

// Sets the waiter's flag and unparks it (S1). Safe to call while holding any weft lock.
void notify_select_waiter(SelectWaiter& waiter) noexcept;

// The start position of the next select scan on this thread: rotating, so a source
// that stays ready is taken within N calls (N = number of sources).
std::size_t select_rotation() noexcept;

// A queue's list of linked select calls (intrusive, doubly linked through SelectNode).
// Not thread-safe: the owning queue guards it with one of its locks.
struct SelectorList {
  SelectNode* head = nullptr;
  void link(SelectNode& node) noexcept;
  void unlink(SelectNode& node) noexcept;
  // Notifies every linked select (S1).
  WEFT_NOINLINE void notify() const noexcept;
};

class QueueBase {
 public:
  QueueBase(const QueueBase&) = delete;
  QueueBase& operator=(const QueueBase&) = delete;

 protected:
  QueueBase(std::size_t maxsize, std::string_view name);
  ~QueueBase();

  void name_queue(std::string_view name);
  // At exit: takes lock_ for good (see FifoBase::seal_for_exit).
  WEFT_COLD void seal_for_exit();

  // Each wait_* is called with lock_ held and returns with it held. It spins briefly
  // (lock released), then parks until woken or `deadline`. Returns false only when the
  // deadline passed; the caller re-checks the state either way.
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
  std::atomic<std::size_t> size_{0};     // number of items; written under lock_ (Q1)
  Lock lock_;                            // guards everything below, and the items
  std::atomic<bool> shutdown_{false};    // written under lock_; mirror for validate (Q2)
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

}  // namespace weft::detail
