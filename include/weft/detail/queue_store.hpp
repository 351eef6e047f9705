// SPDX-License-Identifier: Apache-2.0
// weft/detail/queue_store.hpp: the item containers behind LifoQueue and PriorityQueue
// (CPython's _init/_put/_get/_qsize hooks, as types). Queue and SimpleQueue keep their
// items in the two-lock FIFO's segments (queue_fifo.hpp).
//
// Not thread-safe: every member is called with the queue's lock held. A store only
// holds items; waiting, counting and shutdown live in detail::LockedCore.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace weft::detail {

// LIFO stack (LifoQueue): the most recently pushed item leaves first.
template <class T>
class StackStore {
 public:
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  void push(T&& item) { items_.push_back(std::move(item)); }
  void pop_into(std::optional<T>& out) {
    out.emplace(std::move(items_.back()));
    items_.pop_back();
  }
  void pop_append(std::vector<T>& out) {
    out.push_back(std::move(items_.back()));
    items_.pop_back();
  }
  void drain_into(std::vector<T>& out) {
    out.reserve(out.size() + items_.size());
    while (!items_.empty()) {
      out.push_back(std::move(items_.back()));
      items_.pop_back();
    }
  }

 private:
  std::vector<T> items_;
};

// Binary heap (PriorityQueue): the smallest item by Compare leaves first, like Python's
// heapq. Items that compare equal leave in an unspecified order. push/pop O(log n).
template <class T, class Compare>
class HeapStore {
 public:
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  void push(T&& item) {
    items_.push_back(std::move(item));
    std::push_heap(items_.begin(), items_.end(), Greater{&comp_});
  }
  void pop_into(std::optional<T>& out) {
    std::pop_heap(items_.begin(), items_.end(), Greater{&comp_});
    out.emplace(std::move(items_.back()));
    items_.pop_back();
  }
  void pop_append(std::vector<T>& out) {
    std::pop_heap(items_.begin(), items_.end(), Greater{&comp_});
    out.push_back(std::move(items_.back()));
    items_.pop_back();
  }
  void drain_into(std::vector<T>& out) {
    out.reserve(out.size() + items_.size());
    while (!items_.empty()) {
      std::pop_heap(items_.begin(), items_.end(), Greater{&comp_});
      out.push_back(std::move(items_.back()));
      items_.pop_back();
    }
  }

 private:
  // std heaps put the largest first; reversing the comparison puts the smallest first.
  struct Greater {
    Compare* comp;
    bool operator()(const T& a, const T& b) const { return (*comp)(b, a); }
  };
  std::vector<T> items_;
  [[no_unique_address]] Compare comp_{};
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

}  // namespace weft::detail
