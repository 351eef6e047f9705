// SPDX-License-Identifier: Apache-2.0
// weft/queue.hpp: Queue, LifoQueue, PriorityQueue, SimpleQueue, and (from <weft/select.hpp>)
// select.                                                     (Python: import queue)
//
// Python 3.13's queue module, with its names, semantics and exceptions (Empty, Full,
// ShutDown, ValueError from <weft/errors.hpp>), plus batches (put_many / get_many),
// range-for over a queue, and weft::select over several queues (weft/select.hpp). Design:
// docs/design.md (L3 queues); the engines and their protocols: weft/detail/queue_fifo.hpp
// (Queue, SimpleQueue: two locks) and weft/detail/queue_locked.hpp (LifoQueue,
// PriorityQueue: one lock); the put and get loops over either: weft/detail/queue_ops.hpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/queue_fifo.hpp"
#include "weft/detail/queue_locked.hpp"
#include "weft/detail/queue_ops.hpp"
#include "weft/detail/queue_store.hpp"
#include "weft/errors.hpp"
#include "weft/select.hpp"

namespace weft {
namespace detail {

/// BasicQueue: the public members of Queue, LifoQueue, PriorityQueue (kTasks == true) and
/// SimpleQueue (kTasks == false: no maxsize, task tracking or shutdown), each documented
/// here, over one of two engines (Core): FifoCore (Queue, SimpleQueue: a put lock and a
/// get lock) or LockedCore (LifoQueue, PriorityQueue: one lock). Use those four names;
/// the contract they share (guarantees, fairness, blocking, cost, lifetime) is Queue's,
/// below.
template <class T, class Core>
class BasicQueue : public QueueOps<T, Core> {
  static constexpr bool kTasks = Core::kTasks;
  using Ops = QueueOps<T, Core>;

 public:
  using value_type = T;

  explicit BasicQueue(std::size_t maxsize = 0, std::string_view name = {})
      : Ops(maxsize, name) {}

  /// Names the queue in debug reports and traces (not concurrent with other members).
  void set_name(std::string_view name) { this->name_queue(name); }

  // ---- put ----------------------------------------------------------------------------

  /// Appends an item, waiting while a bounded queue is full.            (Python: put)
  /// Throws: ShutDown if shut down (before or while waiting).
  /// Wakes:  one blocked getter (only if one is parked) and every select watching.
  void put(T item, SourceLoc loc = SourceLoc::current()) {
    throw_put(put_core(item, kForever, loc));
  }
  /// put(item, block=false) is put_nowait(item). Throws: Full, ShutDown.
  void put(T item, bool block, SourceLoc loc = SourceLoc::current()) {
    throw_put(put_core(item, block ? kForever : kImmediate, loc));
  }
  /// Waits at most `timeout` for room (zero or negative: one try). Throws: Full, ShutDown.
  template <class Rep, class Period>
  void put(T item, std::chrono::duration<Rep, Period> timeout,
           SourceLoc loc = SourceLoc::current()) {
    throw_put(put_core(item, deadline_after(timeout), loc));
  }
  /// Never blocks. Throws: Full when full; ShutDown after shutdown().  (Python: put_nowait)
  void put_nowait(T item, SourceLoc loc = SourceLoc::current()) {
    throw_put(put_core(item, kImmediate, loc));
  }
  /// Non-throwing put: true if `item` was moved in; false if the queue is full or shut
  /// down, and then `item` is untouched. Never blocks.
  [[nodiscard]] bool try_put(T& item, SourceLoc loc = SourceLoc::current()) {
    return put_core(item, kImmediate, loc) == QStatus::ok;
  }
  /// As try_put(item), waiting at most `timeout` for room.
  template <class Rep, class Period>
  [[nodiscard]] bool try_put(T& item, std::chrono::duration<Rep, Period> timeout,
                             SourceLoc loc = SourceLoc::current()) {
    return put_core(item, deadline_after(timeout), loc) == QStatus::ok;
  }

  /// Moves items[0], items[1], ... into the queue in order, as many per lock acquisition
  /// as there is room for, waiting while full. (weft extension)
  /// Returns: how many were moved in: items.size(), or fewer if the queue was shut down
  ///          midway or moving an item in threw (std::bad_alloc, T's move): the items
  ///          not moved in are untouched, the ones moved in stay queued. Not all or
  ///          nothing: a bounded queue may hand the first items to getters before the
  ///          rest find room, so the count is the contract.
  /// Throws:  ShutDown if the queue was shut down before the first item went in; the
  ///          exception of moving in the first item (nothing went in).
  /// Wakes:   up to as many getters as items went in.
  std::size_t put_many(std::span<T> items, SourceLoc loc = SourceLoc::current()) {
    return put_many_core(items, kForever, loc);
  }
  /// As put_many(items), giving up when `timeout` has passed: then returns the count so
  /// far (possibly 0, never Full).
  template <class Rep, class Period>
  std::size_t put_many(std::span<T> items, std::chrono::duration<Rep, Period> timeout,
                       SourceLoc loc = SourceLoc::current()) {
    return put_many_core(items, deadline_after(timeout), loc);
  }

  // ---- get ----------------------------------------------------------------------------

  /// Removes and returns the next item (FIFO, LIFO or smallest, by queue type), waiting
  /// while empty.                                                        (Python: get)
  /// Throws: ShutDown once shut down and empty (items queued before shutdown(false)
  ///         are still returned). Wakes: one blocked putter, if one is parked.
  T get(SourceLoc loc = SourceLoc::current()) { return get_or_throw(kForever, loc); }
  /// get(block=false) is get_nowait(). Throws: Empty, ShutDown.
  T get(bool block, SourceLoc loc = SourceLoc::current()) {
    return get_or_throw(block ? kForever : kImmediate, loc);
  }
  /// Waits at most `timeout` (zero or negative: one try). Throws: Empty, ShutDown.
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout, SourceLoc loc = SourceLoc::current()) {
    return get_or_throw(deadline_after(timeout), loc);
  }
  /// Never blocks. Throws: Empty when empty; ShutDown when shut down and empty.
  T get_nowait(SourceLoc loc = SourceLoc::current()) { return get_or_throw(kImmediate, loc); }
  /// Non-throwing get_nowait: nullopt when empty (or shut down and empty; is_shutdown()
  /// tells the two apart).
  [[nodiscard]] std::optional<T> try_get(SourceLoc loc = SourceLoc::current()) {
    std::optional<T> out;
    get_core(out, kImmediate, loc);
    return out;
  }
  /// As try_get(), waiting at most `timeout` for an item.
  template <class D>
  [[nodiscard]] std::optional<T> try_get(D timeout, SourceLoc loc = SourceLoc::current()) {
    std::optional<T> out;
    get_core(out, deadline_after(timeout), loc);
    return out;
  }

  /// Waits until at least one item is queued, then removes up to `max_items` of them
  /// (in get order) under one lock acquisition. (weft extension)
  /// Returns: 1..max_items items (none if max_items == 0). If moving an item out throws
  ///          (std::bad_alloc, T's move), the items taken before it are returned and
  ///          it stays queued with those after it: nothing is lost.
  /// Throws:  ShutDown once shut down and empty; the exception of moving out the first
  ///          item or of allocating the result (then nothing was taken).
  std::vector<T> get_many(std::size_t max_items, SourceLoc loc = SourceLoc::current()) {
    return get_many_or_throw(max_items, kForever, loc);
  }
  /// As get_many(max_items), but returns an empty vector if no item came within
  /// `timeout` (zero or negative: takes only what is queued now; never Empty).
  template <class Rep, class Period>
  std::vector<T> get_many(std::size_t max_items, std::chrono::duration<Rep, Period> timeout,
                          SourceLoc loc = SourceLoc::current()) {
    return get_many_or_throw(max_items, deadline_after(timeout), loc);
  }

  // ---- range-for ----------------------------------------------------------------------

  /// `for (auto&& item : q)` gets items (blocking) until the queue is shut down and
  /// drained, then ends; other consumers may run concurrently. Each step is a get().
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;
    iterator() = default;
    explicit iterator(BasicQueue* q) : q_(q) { next(); }
    T& operator*() const { return *item_; }
    iterator& operator++() {
      next();
      return *this;
    }
    void operator++(int) { next(); }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return !it.item_; }

   private:
    void next() {
      item_.reset();
      if (q_->get_core(item_, kForever, SourceLoc::current()) != QStatus::ok) item_.reset();
    }
    BasicQueue* q_ = nullptr;
    mutable std::optional<T> item_;
  };
  /// Blocks until the first item (or shutdown and empty).
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() const noexcept { return {}; }

  // ---- tasks and join (not SimpleQueue) ------------------------------------------------

  /// Marks one earlier get's task finished.                        (Python: task_done)
  /// Throws: ValueError("task_done() called too many times") when no task is unfinished.
  /// Wakes:  every join() once the count of unfinished tasks reaches zero.
  void task_done(SourceLoc loc = SourceLoc::current())
    requires kTasks
  {
    this->task_done_core(loc);
  }

  /// Blocks until every item ever put has been matched by task_done() (or removed by
  /// shutdown(true)).                                                    (Python: join)
  void join(SourceLoc loc = SourceLoc::current())
    requires kTasks
  {
    (void)this->join_core(kForever, loc);
  }
  /// As join(), for at most `timeout`. Returns: true if no task is unfinished.
  template <class Rep, class Period>
  [[nodiscard]] bool join(std::chrono::duration<Rep, Period> timeout,
                          SourceLoc loc = SourceLoc::current())
    requires kTasks
  {
    return this->join_core(deadline_after(timeout), loc);
  }

  // ---- size (snapshots: may be stale as soon as they return) ---------------------------

  /// Number of queued items; one relaxed load, no lock.                 (Python: qsize)
  std::size_t qsize() const noexcept { return this->size_now(); }
  bool empty() const noexcept { return qsize() == 0; }
  /// True if bounded and holding maxsize items.
  bool full() const noexcept
    requires kTasks
  {
    return this->maxsize_ != 0 && qsize() >= this->maxsize_;
  }
  std::size_t maxsize() const noexcept
    requires kTasks
  {
    return this->maxsize_;
  }

  // ---- shutdown (Python 3.13) -----------------------------------------------------------

  /// Shuts the queue down for good: every later put throws ShutDown; get keeps returning
  /// queued items, then throws ShutDown; blocked putters, getters and selects wake.
  /// With immediate == true the queued items are removed, counted done for join() (which
  /// then wakes), and returned in the order get would have returned them.
  /// Returns: the removed items (empty when immediate == false). Idempotent.
  /// Exceptions: the queue is shut down and every waiter woken before the items are
  ///   moved out. If allocating the result or moving the first item out throws, that
  ///   exception propagates and every item stays queued (get() still returns them and
  ///   a later shutdown(true) removes them); if moving a later item throws, the items
  ///   removed so far are returned and the rest stay queued. No item is lost; join()
  ///   returns once the items still queued are done. (PriorityQueue: only if T's move
  ///   does not throw, since its heap moves items around.)
  std::vector<T> shutdown(bool immediate = false, SourceLoc loc = SourceLoc::current())
    requires kTasks
  {
    return this->shutdown_core(immediate, loc);
  }
  /// True once shutdown() was called (a snapshot).
  bool is_shutdown() const noexcept
    requires kTasks
  {
    return this->is_shut();
  }


 private:
  friend struct SelectAccess;
  using Ops::get_core;
  using Ops::get_many_or_throw;
  using Ops::get_or_throw;
  using Ops::put_core;
  using Ops::put_many_core;
  using Ops::throw_put;
};

}  // namespace detail

/// Queue: a FIFO queue for any number of producers and consumers.   (Python: queue.Queue)
/// Its contract, below, is every weft queue's: LifoQueue, PriorityQueue and SimpleQueue
/// say only how they differ. The members are detail::BasicQueue's (above), documented
/// one by one there.
///
/// State: up to maxsize items (0: unbounded), the count of unfinished tasks, and the
/// shutdown flag (false, then true for good). Items leave in the order they were put
/// (for puts ordered by happens-before).
///
/// Guarantees
///   Memory:  for any threads X and Y, everything X did before its put() of an item is
///            visible to Y once Y's get() (or select, get_many, range-for, shutdown)
///            returns that item; everything X did before task_done() is visible to Y
///            once Y's join() returns because of it.
///   Exactly once: every item put is returned by exactly one get-like call or by
///            shutdown(true); a failed put or try_put leaves the item with the caller
///            (put takes its item by value: on Full or ShutDown the caller's argument
///            was moved into that parameter and is destroyed, as in Python).
///   No spurious wake-up reaches the caller: a blocking call returns only with a result,
///            after its timeout, or with ShutDown.
/// Fairness: blocked getters (and putters) are queued FIFO and woken one per item (one
///   per free slot); a thread that arrives while they wake may take the item first
///   (barging), which keeps throughput high. A woken thread that loses the race parks
///   again at the back of the line: no per-thread guarantee beyond "some thread makes
///   progress" (as in CPython, where the order of wake-ups is not part of the contract).
/// Blocking: put (on a full bounded queue), get, get_many, join and range-for block;
///   `block == false` and zero or negative timeouts are immediate tries. A timed call
///   waits at least its timeout before reporting Empty / Full / false.
/// Ordering: Queue / SimpleQueue have a put lock and a get lock: puts exclude each other
///   and gets exclude each other, but a put and a get run in parallel; items leave in the
///   order their puts took the put lock. LifoQueue / PriorityQueue: one lock for all.
/// Cost:     one weft::Lock acquisition per call (two CAS, no system call when
///           uncontended; for Queue / SimpleQueue the put lock or the get lock, and no
///           other atomic read-modify-write; shutdown takes both). A call that finds
///           nothing to do spins about a microsecond before it parks; a put or get wakes
///           a thread only when one is parked. Queue::task_done is one CAS and no lock.
///           sizeof(Queue<int>) is 128 bytes (put side and get side on separate cache
///           lines); a never-used queue owns no memory. Queue / SimpleQueue keep items
///           in segments of max(8, 512 / sizeof(T)) items, allocated by the puts that
///           need them and freed by the gets that leave them (one spare is kept): N
///           items take N * sizeof(T) bytes plus about 3% plus at most three segments.
///           LifoQueue / PriorityQueue use a vector: at most 2 * N * sizeof(T) bytes.
/// Lifetime: destroy only once no thread is inside a member (items still queued are
///           destroyed with it). All members may be called concurrently.
/// Exit:     the exception to Lifetime, for Python's module-level queue with daemon
///           workers: a queue with static storage destroyed after weft's at-exit handler
///           joined the non-daemon threads (a namespace-scope queue constructed before
///           the first weft::Thread started) first takes its internal locks for good. A
///           daemon thread inside finishes its step; every later call blocks forever;
///           parked daemon threads stay parked; no freed memory is touched.
/// Exceptions: an exception while an item is moved in or out (std::bad_alloc from a
///           copy, a throwing move) loses no item: put leaves the queue unchanged,
///           get / get_many / put_many / shutdown(true) return or keep every item (see
///           each). PriorityQueue gives this only if T's move does not throw.
/// Debugging: blocked calls park with WaitSite{queue, ObjKind::queue, call site}; with the
///           debug tools on, every item reports hooks::queue_put / queue_get with the depth
///           (a snapshot) and a per-queue sequence number pairing a put with its get (FIFO
///           queues; 0 for LIFO and priority order), reported while the internal lock of
///           that side is held, so a put's event precedes its get's. The internal locks
///           are weft::Locks named "<name>.mutex" (Queue / SimpleQueue: two, the put lock
///           always taken before the get lock).
/// Invalid:  task_done() more often than items were put throws ValueError; everything
///           else is valid.
///
///   weft::Queue<int> q(16);
///   std::jthread worker([&] { for (auto&& job : q) { handle(job); q.task_done(); } });
///   for (int i = 0; i < 100; ++i) q.put(i);
///   q.join();  q.shutdown();
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoCore<T, true>> {
 public:
  explicit Queue(std::size_t maxsize = 0, std::string_view name = {})
      : detail::BasicQueue<T, detail::FifoCore<T, true>>(maxsize, name) {}
};

static_assert(sizeof(Queue<int>) <= 128,
              "sizeof(Queue<int>) is documented as 128 bytes: the put side and the get side "
              "on a cache line each");

/// LifoQueue: last in, first out; otherwise exactly Queue.          (Python: queue.LifoQueue)
/// shutdown(true) returns the items newest first (get order).
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LockedCore<T, detail::LifoStore<T>, true>> {
 public:
  explicit LifoQueue(std::size_t maxsize = 0, std::string_view name = {})
      : detail::BasicQueue<T, detail::LockedCore<T, detail::LifoStore<T>, true>>(maxsize,
                                                                                  name) {}
};

/// PriorityQueue: the smallest item by Compare leaves first (a binary heap, like Python's
/// heapq); equal items leave in unspecified order. Otherwise exactly Queue; put and get
/// are O(log n) under the lock.                                  (Python: queue.PriorityQueue)
/// Compare must not throw and must not call into this queue.
template <class T, class Compare = std::less<T>>
class PriorityQueue
    : public detail::BasicQueue<T, detail::LockedCore<T, detail::PriorityStore<T, Compare>, true>> {
 public:
  explicit PriorityQueue(std::size_t maxsize = 0, std::string_view name = {})
      : detail::BasicQueue<T, detail::LockedCore<T, detail::PriorityStore<T, Compare>, true>>(
            maxsize, name) {}
};

/// SimpleQueue: an unbounded FIFO without task tracking or shutdown. (Python: queue.SimpleQueue)
///
/// put never blocks (put(item, block) and put(item, timeout) exist for Python's signature
/// and always succeed); get, get_nowait, try_get, get_many, qsize and empty are as
/// in Queue. Guarantees, fairness and cost: as Queue, minus the task counter.
/// Invalid: n/a. Range-for never ends (a SimpleQueue cannot be shut down).
///
///   weft::SimpleQueue<std::string> log;
///   log.put("started");
///   auto line = log.get();
template <class T>
class SimpleQueue : public detail::BasicQueue<T, detail::FifoCore<T, false>> {
  using Base = detail::BasicQueue<T, detail::FifoCore<T, false>>;

 public:
  SimpleQueue() : Base(0, {}) {}
  explicit SimpleQueue(std::string_view name) : Base(0, name) {}
};

}  // namespace weft
