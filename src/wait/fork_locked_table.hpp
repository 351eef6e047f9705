// SPDX-License-Identifier: Apache-2.0
// wait/fork_locked_table.hpp (L0, private to the library): the fork() handlers of a
// table of buckets that each hold a lock.
//
// The child of fork() has only the forking thread: a bucket lock that another thread held
// at that moment would never be released there, and what a bucket records about other
// threads is false there. ForkLockedTable<Table, Lock, ResetInChild> gives the three
// handlers for pthread_atfork over the table *Table (a pointer to a range of buckets, set
// before the handlers are registered and never freed), whose member Lock is each
// bucket's lock:
//   prepare()  takes every bucket's lock, in table order;
//   parent()   releases them all;
//   child()    for each bucket, ResetInChild(bucket) and then releases its lock.
// None of them allocates or throws.
#pragma once

namespace weft::detail {

template <auto& Table, auto Lock, auto ResetInChild>
struct ForkLockedTable {
  static void prepare() noexcept {
    for (auto& bucket : *Table) (bucket.*Lock).lock();
  }
  static void parent() noexcept {
    for (auto& bucket : *Table) (bucket.*Lock).unlock();
  }
  static void child() noexcept {
    for (auto& bucket : *Table) {
      ResetInChild(bucket);
      (bucket.*Lock).unlock();
    }
  }
};

}  // namespace weft::detail
