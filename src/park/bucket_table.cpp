// SPDX-License-Identifier: Apache-2.0
// The parking lot's table of buckets: its creation, its fork() handlers and the main
// thread's record (see bucket_table.hpp).
#include "park/bucket_table.hpp"

#include <pthread.h>

#include "wait/fork_locked_table.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/wait.hpp"

namespace weft::detail {
namespace lot_detail {
namespace {

BucketTable* g_table = nullptr;

// The main thread's record (see main_thread_data()).
ThreadRecord* g_main_thread_data = nullptr;

// fork(): the child has only the forking thread. A bucket lock held by another thread
// at that moment would never be released there, and the queues list threads that do
// not exist there. So every bucket is locked across fork(), and the child empties them.
void empty_bucket_in_child(Bucket& b) noexcept { b.head = b.tail = nullptr; }
using BucketFork = ForkLockedTable<g_table, &Bucket::lock, empty_bucket_in_child>;

void reset_buckets_in_child() noexcept {
  BucketFork::child();
  // The forking thread is the child's main thread; a Ctrl-C the parent had pending is not
  // the child's (as Python clears its tripped signals after fork()).
  g_main_thread_data = &this_thread_record();
  g_main_thread_data->interrupts.fetch_and(~kInterruptKeyboard, std::memory_order_relaxed);
}

// Created during static initialisation, before any thread can race a fork() with the
// first park (a child forked mid-initialisation would wait on the guard forever).
[[maybe_unused]] const bool g_buckets_ready = (buckets(), true);

}  // namespace

BucketTable* create_bucket_table() noexcept {
  // Leaked on purpose: daemon threads may park while static destructors run.
  g_table = new BucketTable();
  // L0's handlers first: unlocking a bucket may wake a thread through L0.
  ensure_wait_layer_ready();
  // Static initialisation runs on the main thread. Making its record first also
  // registers the records' fork handlers before ours: in a child, the list of records
  // is usable again when reset_buckets_in_child() makes the forking thread's record.
  g_main_thread_data = &this_thread_record();
  ::pthread_atfork(BucketFork::prepare, BucketFork::parent, reset_buckets_in_child);
  return g_table;
}

}  // namespace lot_detail

ThreadRecord& main_thread_data() noexcept {
  lot_detail::buckets();  // sets g_main_thread_data
  return *lot_detail::g_main_thread_data;
}

}  // namespace weft::detail
