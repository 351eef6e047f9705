// SPDX-License-Identifier: Apache-2.0
// weft/detail/queue_ops.hpp: the engine-neutral put and get loops behind every queue's
// public members (detail::BasicQueue in <weft/queue.hpp>).
//
// The put side (put_lock, put_room, push, publish_put, wait_putter) and the get side
// (get_lock, get_available, pop_*, publish_get, wait_getter) are one lock or two, as Core
// decides (LockedCore: one, queue_locked.hpp; FifoCore: two, queue_fifo.hpp). publish_*
// release that side's lock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/select_node.hpp"
#include "weft/errors.hpp"

namespace weft::detail {

// Outcome of a queue operation (and of a select's poll of a source) before it is turned
// into a value or an exception.
enum class QStatus : std::uint8_t { ok, empty, full, shutdown };

template <class T, class Core>
class QueueOps : public Core {
 protected:
  QueueOps(std::size_t maxsize, std::string_view name) : Core(maxsize, name) {}


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
        if (deadline == kImmediate || !wait_putter_in_batch(done, deadline, loc)) {
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

  // wait_putter() for put_many_core after `done` items went in. Interrupted (the put lock
  // is released then): throws if nothing went in; otherwise returns false (the batch
  // ends with its count, like a timeout) and leaves the interrupt pending for the next
  // blocking call (a KeyboardInterrupt, which throwing consumed, is pending again).
  bool wait_putter_in_batch(std::size_t done, Deadline deadline, SourceLoc loc) {
    if (done == 0) return this->wait_putter(deadline, loc);
    try {
      return this->wait_putter(deadline, loc);
    } catch (const KeyboardInterrupt&) {
      add_interrupt_reasons(current_thread_data(), kInterruptKeyboard);
    } catch (const CancelledError&) {  // the stop reason stays pending
    } catch (const TimeoutError&) {    // so does the passed scope deadline
    }
    this->put_lock(loc);  // the caller's timeout path expects it held
    return false;
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

}  // namespace weft::detail
