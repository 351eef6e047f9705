// SPDX-License-Identifier: Apache-2.0
// weft/queue.hpp: Queue, LifoQueue, PriorityQueue, SimpleQueue and select.
//                                                              (Python: import queue)
//
// Python 3.13's queue module, with its names, semantics and exceptions (Empty, Full,
// ShutDown, ValueError from <weft/errors.hpp>), plus batches (put_many / get_many),
// range-for over a queue, and weft::select over several queues. Design: docs/design.md
// (L3 queues); the engines and their protocols: weft/detail/queue_fifo.hpp (Queue,
// SimpleQueue: two locks) and weft/detail/queue_core.hpp (LifoQueue, PriorityQueue).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/queue_core.hpp"
#include "weft/detail/queue_fifo.hpp"
#include "weft/detail/queue_locked.hpp"
#include "weft/detail/queue_select.hpp"
#include "weft/detail/queue_store.hpp"
#include "weft/errors.hpp"
#include "weft/event.hpp"

namespace weft {
namespace detail {

struct SelectAccess;

/// BasicQueue: the public members shared by Queue, LifoQueue, PriorityQueue (kTasks ==
/// true) and SimpleQueue (kTasks == false: no maxsize, task tracking or shutdown) over
/// one of two engines (Core): FifoCore (Queue, SimpleQueue: a put lock and a get lock)
/// or LockedCore (LifoQueue, PriorityQueue: one lock). Use those four names; this
/// template only carries the member documentation.
///
/// State: the items (ordered by Store), maxsize, the count of unfinished tasks, and
/// the shutdown flag (false, then true for good).
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
/// Invalid:  task_done() more often than items were put throws ValueError.
/// Debugging: blocked calls park with WaitSite{queue, ObjKind::queue, call site}; with the
///           debug tools on, every item reports hooks::queue_put / queue_get with the depth
///           (a snapshot) and a per-queue sequence number pairing a put with its get (FIFO
///           queues; 0 for LIFO and priority order), reported while the internal lock of
///           that side is held, so a put's event precedes its get's. The internal locks
///           are weft::Locks named "<name>.mutex" (Queue / SimpleQueue: two, the put lock
///           always taken before the get lock).
template <class T, class Core>
class BasicQueue : public Core {
  static constexpr bool kTasks = Core::kTasks;

 public:
  using value_type = T;

  explicit BasicQueue(std::size_t maxsize = 0, std::string_view name = {})
      : Core(maxsize, name) {}

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

  static void throw_put(QStatus s) {
    if (WEFT_LIKELY(s == QStatus::ok)) return;
    if (s == QStatus::full) throw Full();
    throw ShutDown();
  }

  T get_or_throw(Deadline deadline, SourceLoc loc) {
    std::optional<T> out;
    const QStatus s = get_core(out, deadline, loc);
    if (WEFT_LIKELY(s == QStatus::ok)) return std::move(*out);
    if (s == QStatus::empty) throw Empty();
    throw ShutDown();
  }

  // The loops below are engine-neutral: the put side (put_lock, put_room, push,
  // publish_put, wait_putter) and the get side (get_lock, get_available, pop_*,
  // publish_get, wait_getter) are one lock or two, as Core decides. publish_* release
  // that side's lock.

  // Moves `item` in when it returns ok; leaves it alone otherwise.
  QStatus put_core(T& item, Deadline deadline, SourceLoc loc) {
    this->put_lock(loc);
    for (;;) {
      if (this->is_shut()) {
        this->put_unlock();
        return QStatus::shutdown;
      }
      if (this->put_room(1) != 0) break;
      if (deadline == kImmediate) {
        this->put_unlock();
        return QStatus::full;
      }
      if (!this->wait_putter(deadline, loc)) {
        // Timed out; the state may still have changed at the last moment.
        if (!this->is_shut() && this->put_room(1) != 0) break;
        const bool shut = this->is_shut();
        this->put_unlock();
        return shut ? QStatus::shutdown : QStatus::full;
      }
    }
    try {
      this->push(std::move(item));
    } catch (...) {
      this->put_unlock();
      throw;
    }
    this->publish_put(1);
    return QStatus::ok;
  }

  // Moves one item into `out` (empty on entry) when it returns ok.
  QStatus get_core(std::optional<T>& out, Deadline deadline, SourceLoc loc) {
    this->get_lock(loc);
    for (;;) {
      if (this->get_available(1) != 0) break;
      if (this->is_shut()) {
        this->get_unlock();
        return QStatus::shutdown;
      }
      if (deadline == kImmediate) {
        this->get_unlock();
        return QStatus::empty;
      }
      if (!this->wait_getter(deadline, loc)) {
        if (this->get_available(1) != 0) break;
        const bool shut = this->is_shut();
        this->get_unlock();
        return shut ? QStatus::shutdown : QStatus::empty;
      }
    }
    take_one(out);
    return QStatus::ok;
  }

  // With the get lock held and an item queued: moves it out, releases, wakes a putter.
  void take_one(std::optional<T>& out) {
    try {
      this->pop_into(out);
    } catch (...) {
      this->get_unlock();
      throw;
    }
    this->publish_get(1);
  }

  std::size_t put_many_core(std::span<T> items, Deadline deadline, SourceLoc loc) {
    std::size_t done = 0;
    while (done < items.size()) {
      this->put_lock(loc);
      std::size_t room = 0;
      for (;;) {
        if (this->is_shut()) {
          this->put_unlock();
          if (done == 0) throw ShutDown();
          return done;
        }
        if ((room = this->put_room(items.size() - done)) != 0) break;
        if (deadline == kImmediate || !this->wait_putter(deadline, loc)) {
          if (!this->is_shut() && (room = this->put_room(items.size() - done)) != 0) break;
          const bool shut = this->is_shut();
          this->put_unlock();
          if (shut && done == 0) throw ShutDown();
          return done;
        }
      }
      const std::size_t batch = std::min(room, items.size() - done);
      std::size_t pushed = 0;
      try {
        for (; pushed < batch; ++pushed) this->push(std::move(items[done + pushed]));
      } catch (...) {
        // What went in stays in and is reported; the item that threw and those after it
        // are untouched. Nothing went in at all: the exception propagates.
        if (pushed != 0) {
          this->publish_put(pushed);
        } else {
          this->put_unlock();
        }
        if (done + pushed == 0) throw;
        return done + pushed;
      }
      this->publish_put(batch);
      done += batch;
    }
    return done;
  }

  std::vector<T> get_many_or_throw(std::size_t max_items, Deadline deadline, SourceLoc loc) {
    std::vector<T> out;
    if (max_items == 0) return out;
    this->get_lock(loc);
    std::size_t available = 0;
    for (;;) {
      if ((available = this->get_available(max_items)) != 0) break;
      if (this->is_shut()) {
        this->get_unlock();
        throw ShutDown();
      }
      if (deadline == kImmediate || !this->wait_getter(deadline, loc)) {
        if ((available = this->get_available(max_items)) != 0) break;
        const bool shut = this->is_shut();
        this->get_unlock();
        if (shut) throw ShutDown();
        return out;
      }
    }
    const std::size_t n = std::min(max_items, available);
    try {
      out.reserve(n);
      for (std::size_t i = 0; i < n; ++i) this->pop_append(out);
    } catch (...) {
      // The items already taken are returned; the one that threw and those after it
      // stay queued. Nothing taken at all: the exception propagates.
      if (out.empty()) {
        this->get_unlock();
        throw;
      }
      this->publish_get(out.size());
      return out;
    }
    this->publish_get(n);
    return out;
  }

  // For select: takes an item if one is queued (ok); otherwise links `node` (if given)
  // and returns empty, or returns shutdown if shut down and empty.
  QStatus select_poll(std::optional<T>& out, SelectNode* node, SourceLoc loc) {
    this->get_lock(loc);
    if (this->get_available(1) != 0) {
      take_one(out);
      return QStatus::ok;
    }
    if (this->is_shut()) {
      this->get_unlock();
      return QStatus::shutdown;
    }
    if (node != nullptr) {
      this->select_link(*node, loc);  // releases the get lock
    } else {
      this->get_unlock();
    }
    return QStatus::empty;
  }
};

// Stores say whether their order is FIFO, for the trace sequence numbers.
template <class T>
struct LifoStore : StackStore<T> {
  static constexpr bool kFifo = false;
};
template <class T, class Compare>
struct PriorityStore : HeapStore<T, Compare> {
  static constexpr bool kFifo = false;
};

}  // namespace detail

/// Queue: a FIFO queue for any number of producers and consumers.   (Python: queue.Queue)
///
/// State: up to maxsize items (0: unbounded), unfinished-task count, shutdown flag.
/// Guarantees, fairness, blocking, cost, lifetime: see detail::BasicQueue above. Items
/// leave in the order they were put (for puts ordered by happens-before).
/// Invalid: task_done() too often throws ValueError; everything else is valid.
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

static_assert(sizeof(Queue<int>) <= 128, "an empty Queue<int> must stay small (issue 3: <= 256 bytes)");

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

// ---- select ------------------------------------------------------------------------------

/// The result of weft::select: which source was taken and what it gave.
/// `index` is the position of that source in the call's argument list and `value` holds
/// its alternative `index` (the item, for a queue).
template <class... Ts>
struct Selected {
  std::size_t index;
  std::variant<Ts...> value;

  /// The value taken from source I (std::bad_variant_access if index != I).
  template <std::size_t I>
  auto& get() {
    return std::get<I>(value);
  }
};

namespace detail {

template <class T, class C>
std::type_identity<T> select_probe(BasicQueue<T, C>&);

std::type_identity<Event*> select_probe(Event&);

template <class Src>
using select_item_t = typename decltype(select_probe(std::declval<Src&>()))::type;

template <class Src>
concept Selectable = requires(Src& s) { select_probe(s); };

struct SelectAccess {
  // Queue sources: take an item, or link `node` (if given) and report empty / shutdown.
  template <class T, class C>
  static QStatus poll(BasicQueue<T, C>& q, std::optional<T>& out, SelectNode* node,
                      bool /*fired*/, SourceLoc loc) {
    return q.select_poll(out, node, loc);
  }
  template <class T, class C>
  static bool unlink(BasicQueue<T, C>& q, SelectNode& node, SourceLoc loc) {
    q.select_unlink(node, loc);
    return false;
  }
  template <class T, class C>
  static WaitSite site(BasicQueue<T, C>& q, SourceLoc loc) {
    return WaitSite{static_cast<const void*>(&q), ObjKind::queue, loc, true};
  }

  // Event sources: ready while set, or if a set() fired while the select was linked
  // (then it is reported even if cleared since, as Event::wait would return true).
  static QStatus poll(Event& e, std::optional<Event*>& out, SelectNode* node, bool fired,
                      SourceLoc) {
    if (fired || e.is_set()) {
      out = &e;
      return QStatus::ok;
    }
    if (node == nullptr) return QStatus::empty;
    node->key = &e;
    event_select_link(*node);
    // (V1) after the link: a set() that reads this bit notifies the node.
    const std::uint32_t old = e.state_.fetch_or(Event::kSelect, std::memory_order_acq_rel);
    if ((old & Event::kSet) != 0) {
      (void)event_select_unlink(*node);
      out = &e;
      return QStatus::ok;
    }
    return QStatus::empty;
  }
  static bool unlink(Event&, SelectNode& node, SourceLoc) { return event_select_unlink(node); }
  static WaitSite site(Event& e, SourceLoc loc) { return WaitSite{&e, ObjKind::event, loc}; }
};

template <std::size_t N, class F>
void with_index(std::size_t i, F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((I == i ? (f(std::integral_constant<std::size_t, I>{}), 0) : 0), ...);
  }(std::make_index_sequence<N>{});
}

// The engine behind every select form. Returns nullopt on timeout or when every source
// is shut down and drained (then `closed` is set).
template <class... Srcs>
std::optional<Selected<select_item_t<Srcs>...>> select_impl(Deadline deadline, bool& closed,
                                                            SourceLoc loc, Srcs&... srcs) {
  constexpr std::size_t N = sizeof...(Srcs);
  using Result = Selected<select_item_t<Srcs>...>;
  auto refs = std::tie(srcs...);
  SelectWaiter waiter;
  std::array<SelectNode, N> nodes{};
  std::array<bool, N> linked{};
  std::array<bool, N> fired{};  // Event sources set while this call was parked
  for (SelectNode& n : nodes) n.waiter = &waiter;
  std::optional<Result> result;
  std::size_t start = select_rotation() % N;
  const WaitSite site = SelectAccess::site(std::get<0>(refs), loc);

  auto unlink_all = [&] {
    for (std::size_t i = 0; i < N; ++i) {
      if (!linked[i]) continue;
      with_index<N>(i, [&](auto I) {
        fired[I] = SelectAccess::unlink(std::get<I>(refs), nodes[I], loc) || fired[I];
      });
      linked[i] = false;
    }
  };

  for (;;) {
    waiter.notified.store(0, std::memory_order_relaxed);
    const bool registering = deadline != kImmediate;
    std::size_t open = 0;
    for (std::size_t k = 0; k < N && !result; ++k) {
      const std::size_t i = (start + k) % N;
      with_index<N>(i, [&](auto I) {
        using Item = select_item_t<std::tuple_element_t<I, std::tuple<Srcs...>>>;
        std::optional<Item> item;
        const QStatus s = SelectAccess::poll(std::get<I>(refs), item,
                                             registering ? &nodes[I] : nullptr, fired[I], loc);
        fired[I] = false;
        if (s == QStatus::ok) {
          result.emplace(Result{I, std::variant<select_item_t<Srcs>...>(
                                       std::in_place_index<I>, std::move(*item))});
        } else if (s == QStatus::empty) {
          ++open;
          linked[I] = registering;
        }
      });
    }
    if (result || open == 0 || !registering) {
      unlink_all();
      closed = !result && open == 0;
      return result;
    }
    // (S2) sleep only while no watched queue changed since it was polled.
    const ParkResult r = park(
        &waiter.notified,
        [&] { return waiter.notified.load(std::memory_order_relaxed) == 0; }, deadline,
        site);
    unlink_all();
    if (r.status == ParkStatus::kTimedOut || (deadline != kForever && Clock::now() >= deadline))
      deadline = kImmediate;  // one last poll, then report the timeout
    start = (start + 1) % N;
  }
}

}  // namespace detail

/// select: waits on several queues and Events at once and takes exactly one ready
/// source.                                                                (weft extension)
///
///   weft::Queue<int> jobs;  weft::Queue<std::string> control;  weft::Event stop;
///   auto got = weft::select(jobs, control, stop);          // blocks
///   if (got.index == 0) run(got.get<0>()); else if (got.index == 1) handle(got.get<1>());
///
/// Sources: any Queue, LifoQueue, PriorityQueue or SimpleQueue (the value is the item
/// taken, with a get under that queue's lock: an item is never taken and then dropped)
/// and any weft::Event (the value is the Event*; ready while set, and also when a set()
/// happened while this select was parked even if clear() followed, as Event::wait; the
/// event is not cleared). Exactly one source is taken; the others are untouched. A
/// source may appear only once.
/// Fairness: sources are polled in a rotating order (one step per call on each thread),
///   so a source that stays ready is taken within N consecutive calls of a thread.
///   Against plain get() callers on the same queue, select barges like any getter.
/// Blocking: select(srcs...) blocks until a source is ready; select(timeout, srcs...)
///   waits at most `timeout` (zero or negative: one poll) and throws Empty;
///   try_select(...) returns nullopt instead of throwing Empty. Puts on watched queues
///   and set() on watched events wake the select; it never spins.
/// Shut down: a queue that is shut down and drained is never ready again; once every
///   source is such a queue, select throws ShutDown (try_select returns nullopt). A
///   select with an Event source never throws ShutDown.
/// Memory: as get() for queues; for an Event, as Event::wait (set() happens-before).
/// Cost: one lock acquisition per queue per poll (an empty Queue / SimpleQueue: its get
///   lock to poll, then its put lock to register; one atomic RMW and a registry lock per
///   Event); while parked, every put on a watched queue and every set() of a watched
///   event unparks this select. Events with no select watching pay nothing.
template <class... Srcs>
  requires(sizeof...(Srcs) > 0 && (detail::Selectable<Srcs> && ...))
Selected<detail::select_item_t<Srcs>...> select(Srcs&... srcs) {
  bool closed = false;
  auto r = detail::select_impl(detail::kForever, closed, detail::SourceLoc{}, srcs...);
  if (!r) throw ShutDown();
  return std::move(*r);
}

template <class Rep, class Period, class... Srcs>
  requires(sizeof...(Srcs) > 0 && (detail::Selectable<Srcs> && ...))
Selected<detail::select_item_t<Srcs>...> select(std::chrono::duration<Rep, Period> timeout,
                                                Srcs&... srcs) {
  bool closed = false;
  auto r = detail::select_impl(detail::deadline_after(timeout), closed, detail::SourceLoc{},
                               srcs...);
  if (r) return std::move(*r);
  if (closed) throw ShutDown();
  throw Empty();
}

template <class... Srcs>
  requires(sizeof...(Srcs) > 0 && (detail::Selectable<Srcs> && ...))
[[nodiscard]] std::optional<Selected<detail::select_item_t<Srcs>...>> try_select(Srcs&... srcs) {
  bool closed = false;
  return detail::select_impl(detail::kImmediate, closed, detail::SourceLoc{}, srcs...);
}

template <class Rep, class Period, class... Srcs>
  requires(sizeof...(Srcs) > 0 && (detail::Selectable<Srcs> && ...))
[[nodiscard]] std::optional<Selected<detail::select_item_t<Srcs>...>> try_select(
    std::chrono::duration<Rep, Period> timeout, Srcs&... srcs) {
  bool closed = false;
  return detail::select_impl(detail::deadline_after(timeout), closed, detail::SourceLoc{},
                             srcs...);
}

}  // namespace weft
