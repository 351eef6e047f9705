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
// Blocking: park() blocks until unparked, the deadline passes or (Interruptible::kYes) the
//   thread is interrupted; no other call blocks except briefly on a bucket lock.
// Interrupts: every thread has a record of pending interrupt reasons (kInterrupt* below)
//   and a scope deadline (the earliest live Timeout's). An interruptible park whose thread
//   has a reason pending, or whose scope deadline passes, returns kInterrupted; the caller
//   restores its object's invariants and calls throw_interruption(). A park with nothing
//   pending and no scope deadline behaves as if interrupts did not exist.
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
  kInterrupted,  // cut short by an interrupt (a stop request on a live CancelScope, a
                 // Thread's request_stop, Ctrl-C in the main thread, a Timeout scope's
                 // deadline). As for kTimedOut, the thread is off the queue and timed_out
                 // ran. Also returned when a reason was already pending at park(), unless an
                 // unparker dequeued the thread first (then kUnparked: a call that can
                 // complete completes, and the reason stays pending for the next park).
};

// kNo is for waits that restore an invariant and must finish (Condition::wait re-acquiring
// its lock after being cancelled; weft-internal locks held for a few instructions): such a
// park ignores interrupt reasons and the scope deadline.
enum class Interruptible : bool { kNo, kYes };

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
//   interruptible:     kYes: the park waits until min(deadline, scope deadline); the own
//                      deadline first (or equal) gives kTimedOut, the scope's kInterrupted.
ParkResult park(const void* key, FunctionRef<bool()> validate, FunctionRef<void()> before_sleep,
                FunctionRef<void(const void* key, bool was_last)> timed_out, Deadline deadline,
                const WaitSite& site, ParkToken park_token = 0,
                Interruptible interruptible = Interruptible::kYes);

// Simple form: park while validate() holds, no before_sleep, nothing to do on timeout.
ParkResult park(const void* key, FunctionRef<bool()> validate, Deadline deadline,
                const WaitSite& site, Interruptible interruptible = Interruptible::kYes);

// Unparks the longest-parked thread on `key`, if any. callback(result) runs under the
// bucket lock (also when no thread was found) and returns the token that thread gets.
UnparkResult unpark_one(const void* key, FunctionRef<ParkToken(UnparkResult)> callback);

// Simple form: unparks one thread, giving it token 0. Returns true if one was parked.
bool unpark_one(const void* key);

// Unparks every thread parked on `key`, each receiving `token`. Returns how many.
std::size_t unpark_all(const void* key, ParkToken token = 0);

// Unparks up to `n` threads parked on `key` in FIFO order. Returns how many.
std::size_t unpark_n(const void* key, std::size_t n, ParkToken token = 0);

// Unparks every thread parked on `key` with park token `park_token` (the one it passed to
// park()), each receiving `token`; threads parked with another park token stay. Returns
// how many. For a wake-up meant only for the threads that parked before some change
// (Event: a set() must not wake a waiter that parked after the flag was cleared again).
std::size_t unpark_all_parked_with(const void* key, ParkToken park_token, ParkToken token);

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

struct ThreadRecord;  // src/park/thread_record.hpp

// One parked thread, as the debug tools see it.
struct ParkedThread {
  std::uint64_t ident;  // get_ident() of the parked thread
  const void* key;
  WaitSite site;
  Deadline since;
  Deadline deadline;
  ThreadRecord* record;  // the parked thread's record (alive during the callback)
};

// Calls fn for every thread parked right now, one bucket locked at a time. For the
// debug tools: fn must not park, unpark or allocate through weft primitives.
void for_each_parked(FunctionRef<void(const ParkedThread&)> fn);

// The calling thread's pthread identity, as get_ident() reports it.
std::uint64_t current_ident() noexcept;

// ---- Interrupts ----

// A thread's record in the parking lot (created at its first use, lives as long as the
// thread). Opaque outside src/park.
struct ThreadRecord;  // src/park/thread_record.hpp: the one record per thread
using ThreadData = ThreadRecord;

// The calling thread's record.
ThreadData& current_thread_data() noexcept;

// The main thread's record: the thread that ran weft's static initialisation, or in a
// child process the thread that called fork() (Python's rule). Never null.
ThreadData& main_thread_data() noexcept;

// Interrupt reasons, bits of a thread's record.
inline constexpr std::uint32_t kInterruptStop = 1u << 0;      // stop requested on a live scope;
                                                              // the scope machinery sets and clears it
inline constexpr std::uint32_t kInterruptKeyboard = 1u << 1;  // SIGINT (main thread only);
                                                              // consumed by throw_interruption()
inline constexpr std::uint32_t kInterruptDeadlock = 1u << 2;  // a virtual-time bubble deadlocked
inline constexpr std::uint32_t kInterruptBubble = 1u << 3;    // a virtual-time bubble ended the
                                                              // park (deadline reached, wait done)

// Adds `reasons` to `target`'s pending reasons (seq_cst), then, if `target` is in an
// interruptible park, makes that park return kInterrupted (waking it if it sleeps).
// Takes no lock and allocates nothing: async-signal-safe with the futex backend of L0
// (with the fallback backend, the wake takes a mutex). `target` must be alive.
void interrupt_thread(ThreadData& target, std::uint32_t reasons) noexcept;

// Only adds `reasons` to `target`'s pending reasons (seq_cst): a park already under way
// does not notice until interrupt_thread(target, 0) runs (for a signal handler that must
// not take L0's fallback mutex; interrupt_thread(target, 0) from another thread then wakes).
void add_interrupt_reasons(ThreadData& target, std::uint32_t reasons) noexcept;

// Removes `reasons` from the calling thread's pending reasons.
void clear_interrupts(std::uint32_t reasons) noexcept;

// The calling thread's pending reasons.
std::uint32_t pending_interrupts() noexcept;

// The calling thread's scope deadline (kForever: none). Only that thread reads or writes
// it; Timeout keeps it the earliest deadline of the live scopes.
Deadline scope_deadline() noexcept;
void set_scope_deadline(Deadline deadline) noexcept;

// While one lives, every park of the calling thread behaves as Interruptible::kNo: for code
// that restores an invariant through calls that park (re-acquiring a lock after a
// cancelled wait) or that must not throw (noexcept paths taking an internal lock). Nests.
class NoInterruptScope {
 public:
  NoInterruptScope() noexcept;
  ~NoInterruptScope();
  NoInterruptScope(const NoInterruptScope&) = delete;
  NoInterruptScope& operator=(const NoInterruptScope&) = delete;
};

// True if an interruptible park of the calling thread would return kInterrupted now: a
// reason is pending or the scope deadline has passed.
bool interruption_pending() noexcept;

// Throws what the calling thread's pending interrupt means, in this order:
// KeyboardInterrupt (kInterruptKeyboard, which it consumes), CancelledError (kInterruptStop),
// TimeoutError (the scope deadline passed). Called after a park returned kInterrupted.
[[noreturn]] void throw_interruption();

}  // namespace weft::detail
