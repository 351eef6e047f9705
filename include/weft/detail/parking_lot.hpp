// SPDX-License-Identifier: Apache-2.0
// weft/detail/parking_lot.hpp: L1, address-keyed FIFO wait queues (a user-space futex).
//
// A thread parks on any address (the key) after `validate` confirms, under the queue's
// lock, that it still has to wait; an unparker takes threads off that key's queue in
// FIFO order. Primitives keep only a few state bits and put all queueing here, so a
// Lock is two bytes and every blocked weft thread can be found by the debug tools.
//
// Guarantees
//   No lost wake-up: validate() and every unpark callback run under the same bucket
//   lock, so a thread that validated before an unparker ran is seen by that unparker.
//   FIFO: unpark_one wakes the longest-parked thread of that key.
//   Memory: everything an unparker did before unpark_*() is visible to the thread it
//   unparked once park() returns kUnparked.
// Fairness: unpark results carry be_fair, true about once per millisecond per bucket
//   (randomised), so a lock can hand off directly and bound barging.
// Blocking: park() blocks until unparked or the deadline passes; no other call blocks
//   except briefly on a bucket lock.
// Cost: no allocation per wait (one per thread, at its first park); a fixed table of
//   buckets, so distinct keys may share a bucket (correct, just more scanning).
// Callbacks: validate, the unpark callbacks and timed_out run with a bucket lock held:
//   they must not park, unpark or call anything that does. before_sleep runs with no
//   lock held and may unpark (e.g. Condition::wait releasing its lock there) but must
//   not park.
#pragma once

#include <cstddef>
#include <cstdint>

#include "weft/detail/deadline.hpp"
#include "weft/detail/function_ref.hpp"
#include "weft/detail/hooks.hpp"

namespace weft::detail {

// A value passed from an unparker to the thread it unparks (e.g. "lock handed off").
using ParkToken = std::uintptr_t;

enum class ParkStatus : std::uint8_t {
  kUnparked,  // an unparker woke us; token holds what its callback returned
  kInvalid,   // validate() returned false: we never slept
  kTimedOut,  // the deadline passed while we were queued
};

struct ParkResult {
  ParkStatus status;
  ParkToken token;  // valid when status == kUnparked
};

struct UnparkResult {
  std::size_t unparked = 0;  // threads taken off the queue
  bool have_more = false;    // threads still parked on this key
  bool be_fair = false;      // time for a fair hand-off (see Fairness above)
};

// Parks the calling thread on `key`.
//   validate():        under the bucket lock; false aborts the park (kInvalid).
//   before_sleep():    after enqueueing, with no lock held.
//   timed_out(key, was_last): under the bucket lock when the deadline passed and we
//                      were still queued; was_last says no other thread waits on key.
//   site:              what the debug tools show for this wait.
ParkResult park(const void* key, FunctionRef<bool()> validate, FunctionRef<void()> before_sleep,
                FunctionRef<void(const void* key, bool was_last)> timed_out, Deadline deadline,
                const WaitSite& site, ParkToken park_token = 0);

// Simple form: park while validate() holds, no before_sleep, nothing to do on timeout.
ParkResult park(const void* key, FunctionRef<bool()> validate, Deadline deadline,
                const WaitSite& site);

// Unparks the longest-parked thread on `key`, if any. callback(result) runs under the
// bucket lock (also when no thread was found) and returns the token that thread gets.
UnparkResult unpark_one(const void* key, FunctionRef<ParkToken(UnparkResult)> callback);

// Simple form: unparks one thread, giving it token 0. Returns true if one was parked.
bool unpark_one(const void* key);

// Unparks every thread parked on `key`, each receiving `token`. Returns how many.
std::size_t unpark_all(const void* key, ParkToken token = 0);

// Unparks up to `n` threads parked on `key` in FIFO order. Returns how many.
std::size_t unpark_n(const void* key, std::size_t n, ParkToken token = 0);

enum class RequeueOp : std::uint8_t {
  kAbort,                     // do nothing
  kUnparkOneRequeueRest,      // wake the first, move the others to `to`
  kRequeueAll,                // move every thread to `to`, wake none
};

// Moves threads parked on `from` to the queue of `to` (e.g. Condition::notify_all
// moves its waiters onto its lock, so they are woken one by one as it is released).
// validate() picks the operation under both bucket locks; callback(op, result) runs
// under them too (result.have_more: threads were requeued) and returns the token for
// the unparked thread.
UnparkResult unpark_requeue(const void* from, const void* to, FunctionRef<RequeueOp()> validate,
                            FunctionRef<ParkToken(RequeueOp, UnparkResult)> callback);

// One parked thread, as the debug tools see it.
struct ParkedThread {
  std::uint64_t ident;  // get_ident() of the parked thread
  const void* key;
  WaitSite site;
  Deadline since;
  Deadline deadline;
};

// Calls fn for every thread parked right now, one bucket locked at a time. For the
// debug tools: fn must not park, unpark or allocate through weft primitives.
void for_each_parked(FunctionRef<void(const ParkedThread&)> fn);

// The calling thread's pthread identity, as get_ident() reports it.
std::uint64_t current_ident() noexcept;

}  // namespace weft::detail
