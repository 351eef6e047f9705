// SPDX-License-Identifier: Apache-2.0
// park/bucket_table.hpp (L1, private to src/park): the parking lot's table of buckets.
//
// Contract: kBuckets buckets, created during static initialisation (or by the first
// buckets() before it) and never freed: daemon threads may park while static destructors
// run. A key (an address) hashes to one bucket; the bucket's WordLock guards its FIFO
// list of the records of the threads parked on the keys of that bucket, linked through
// ThreadRecord::next. Across fork() every bucket lock is held, and in the child the lists
// are emptied and the forking thread becomes the main thread (bucket_table.cpp).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "park/thread_record.hpp"
#include "park/word_lock.hpp"
#include "weft/detail/clock.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/intrusive_list.hpp"

namespace weft::detail::lot_detail {

struct alignas(64) Bucket {
  WordLock lock;
  ThreadRecord* head = nullptr;
  ThreadRecord* tail = nullptr;
  Deadline fair_deadline{};
  std::uint32_t seed = 0;

  void append(ThreadRecord* t) noexcept {
    fifo_push_back<&ThreadRecord::next>(head, tail, *t);
  }

  // Removes t (whose predecessor is prev, or nullptr if t is head).
  void remove(ThreadRecord* prev, ThreadRecord* t) noexcept {
    ThreadRecord* next = t->next;
    if (prev != nullptr) {
      prev->next = next;
    } else {
      head = next;
    }
    if (tail == t) tail = prev;
    t->next = nullptr;
  }

  bool has_key(const void* key, ThreadRecord* from) const noexcept {
    for (ThreadRecord* t = from; t != nullptr; t = t->next)
      if (t->key.load(std::memory_order_relaxed) == key) return true;
    return false;
  }

  // True about once per millisecond, at random points: time to hand off fairly.
  bool time_to_be_fair() noexcept {
    const Deadline now = real_now();
    if (now < fair_deadline) return false;
    seed = seed * 1664525u + 1013904223u;  // LCG; quality is irrelevant here
    fair_deadline = now + std::chrono::nanoseconds(seed % 1'000'000);
    return true;
  }
};

constexpr std::size_t kBucketBits = 10;
constexpr std::size_t kBuckets = std::size_t{1} << kBucketBits;
using BucketTable = std::array<Bucket, kBuckets>;

// Creates the table, registers its fork() handlers and records the main thread's record
// (bucket_table.cpp); called once, by buckets().
BucketTable* create_bucket_table() noexcept;

inline BucketTable& buckets() noexcept {
  static BucketTable* const table = create_bucket_table();
  return *table;
}

inline std::size_t bucket_index(const void* key) noexcept {
  const auto h = reinterpret_cast<std::uintptr_t>(key) * 0x9E3779B97F4A7C15ull;
  return static_cast<std::size_t>(h >> (64 - kBucketBits));
}

inline Bucket& lock_bucket(const void* key) noexcept {
  Bucket& b = buckets()[bucket_index(key)];
  b.lock.lock();
  return b;
}

// Locks the buckets of two keys in index order (once if they share a bucket).
inline std::pair<Bucket*, Bucket*> lock_bucket_pair(const void* a, const void* b) noexcept {
  const std::size_t ia = bucket_index(a), ib = bucket_index(b);
  Bucket* ba = &buckets()[ia];
  Bucket* bb = &buckets()[ib];
  if (ia == ib) {
    ba->lock.lock();
  } else if (ia < ib) {
    ba->lock.lock();
    bb->lock.lock();
  } else {
    bb->lock.lock();
    ba->lock.lock();
  }
  return {ba, bb};
}

inline void unlock_bucket_pair(Bucket* a, Bucket* b) noexcept {
  a->lock.unlock();
  if (a != b) b->lock.unlock();
}

}  // namespace weft::detail::lot_detail
