// weft/detail/queue_store.hpp: the item containers behind Queue, LifoQueue and
// PriorityQueue (CPython's _init/_put/_get/_qsize hooks, as types).
//
// Not thread-safe: every member is called with the queue's lock held. A store only
// holds items; waiting, counting and shutdown live in detail::BasicQueue.
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

// FIFO ring buffer with power-of-two capacity. Grows by doubling and never shrinks, so
// N queued items take at most 2 * N * sizeof(T) bytes; an empty, never-used ring owns no
// memory. push/pop are O(1) (amortised for push).
template <class T>
class RingStore {
 public:
  RingStore() = default;
  RingStore(const RingStore&) = delete;
  RingStore& operator=(const RingStore&) = delete;
  ~RingStore() {
    clear();
    std::allocator<T>().deallocate(buf_, cap_);
  }

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  std::size_t capacity() const noexcept { return cap_; }

  void push(T&& item) {
    if (count_ == cap_) grow();
    ::new (static_cast<void*>(buf_ + ((head_ + count_) & (cap_ - 1)))) T(std::move(item));
    ++count_;
  }

  // Moves the front item into out (which must be empty).
  void pop_into(std::optional<T>& out) {
    T& slot = buf_[head_];
    out.emplace(std::move(slot));
    slot.~T();
    head_ = (head_ + 1) & (cap_ - 1);
    --count_;
  }

  // Moves the front item to the back of out (which has room reserved).
  void pop_append(std::vector<T>& out) {
    T& slot = buf_[head_];
    out.push_back(std::move(slot));
    slot.~T();
    head_ = (head_ + 1) & (cap_ - 1);
    --count_;
  }

  // Moves every item, in pop order, to the back of out.
  void drain_into(std::vector<T>& out) {
    out.reserve(out.size() + count_);
    while (count_ != 0) {
      T& slot = buf_[head_];
      out.push_back(std::move(slot));
      slot.~T();
      head_ = (head_ + 1) & (cap_ - 1);
      --count_;
    }
  }

 private:
  void clear() noexcept {
    while (count_ != 0) {
      buf_[head_].~T();
      head_ = (head_ + 1) & (cap_ - 1);
      --count_;
    }
  }

  void grow() {
    const std::size_t new_cap = cap_ == 0 ? 16 : cap_ * 2;
    std::allocator<T> alloc;
    T* fresh = alloc.allocate(new_cap);
    std::size_t moved = 0;
    try {
      for (; moved < count_; ++moved) {
        ::new (static_cast<void*>(fresh + moved))
            T(std::move_if_noexcept(buf_[(head_ + moved) & (cap_ - 1)]));
      }
    } catch (...) {
      for (std::size_t i = 0; i < moved; ++i) fresh[i].~T();
      alloc.deallocate(fresh, new_cap);
      throw;
    }
    for (std::size_t i = 0; i < count_; ++i) buf_[(head_ + i) & (cap_ - 1)].~T();
    if (buf_ != nullptr) alloc.deallocate(buf_, cap_);
    buf_ = fresh;
    cap_ = new_cap;
    head_ = 0;
  }

  T* buf_ = nullptr;
  std::size_t cap_ = 0;    // 0 or a power of two
  std::size_t head_ = 0;   // index of the front item
  std::size_t count_ = 0;  // items stored
};

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

}  // namespace weft::detail
