// SPDX-License-Identifier: Apache-2.0
// The one record per thread (L1). The parking lot queues it, the thread registry (L2)
// keeps a thread's state and its Thread object in it, and the debug tools (L5) attach
// their per-thread data to it. Each layer owns one section below and touches no other
// (the identity and name section excepted, which every layer reads).
//
// Lifetime: a record is reference counted (RecordRef). References are held by
//   - the thread that runs with it, from the moment it adopts the record (a weft
//     Thread) or its first use of this_thread_record() (any other thread) until that
//     thread exits (a pthread key destructor, which runs after every thread_local
//     destructor, so the thread keeps finding its record during them);
//   - its Thread object and the registry's list of alive threads (L2);
//   - its debug data (L5), which is never freed: the debug tools show threads that
//     have ended, so a record with debug data lives until the process ends.
// A parked thread's record is alive (its thread holds it), so for_each_parked and the
// unparkers may use it while it is queued.
//
// The name is stored here only: the registry writes it, the debug dumps, the trace and
// the OS name read it. The main thread and dummy threads (threads weft did not start)
// are named by name_if_unnamed(), with the counter that also numbers "Thread-N".
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>

#include "park/bubble_slot.hpp"
#include "park/word_lock.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/function_ref.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/thread_record_ref.hpp"

namespace weft {
class Thread;  // L2; only pointers are stored here
}  // namespace weft

namespace weft::detail {

class ThreadTask;  // L2 (weft/thread.hpp); only a pointer is stored here
namespace dbg {
struct DebugThreadData;  // L5 (src/debug/state.hpp); only a pointer is stored here
}  // namespace dbg

// The registry's phases of a thread (L2 section below).
enum ThreadPhase : std::uint32_t { kNew = 0, kStarting = 1, kRunning = 2, kFinished = 3 };

// Aligned to a cache line: its first line holds exactly what an unparker touches (the
// hand-off fields and the bubble pointer it tests), so a wake-up moves one line of the
// parked thread's record; what only the parked thread writes at each park (site, since,
// deadline) lies on later lines.
struct alignas(64) ThreadRecord {
  ThreadRecord() noexcept = default;
  ThreadRecord(const ThreadRecord&) = delete;
  ThreadRecord& operator=(const ThreadRecord&) = delete;

  // ---- parking lot, the hand-off line (L1: parking_lot.cpp, states in parked_word.hpp) ----
  std::atomic<std::uint32_t> parked{0};   // kSpinning / kSleeping while queued or being
                                          // unparked; 0 once unparked
  std::atomic<const void*> key{nullptr};  // the queue we are on; nullptr once dequeued
  ThreadRecord* next = nullptr;           // bucket list; guarded by the bucket lock
  ParkToken park_token = 0;               // guarded by the bucket lock
  ParkToken unpark_token = 0;             // written at (U1), read after (P2)

  // ---- virtual time (#14: bubble.cpp) ----
  // Its first member, `bubble`, which every unparker tests, is on the hand-off line.
  BubbleSlot bubble_slot;  // the thread's part of its bubble (bubble_slot.hpp)
  Bubble* bubble_for_new_threads = nullptr;  // set_bubble_for_new_threads(); the owning
                                             // thread's only

  // ---- parking lot, written by the parked thread only (read by for_each_parked) ----
  WaitSite site{};                        // guarded by the bucket lock
  Deadline since{};                       // guarded by the bucket lock
  Deadline deadline{};                    // guarded by the bucket lock

  // ---- interrupts (cancellation, #13: interrupts.cpp, parking_lot.cpp) ----
  std::atomic<std::uint32_t> interrupts{0};  // pending kInterrupt* reasons: (I1), (P5)
  Deadline scope_deadline = kForever;        // the owning thread's only
  std::uint32_t no_interrupt_depth = 0;      // live NoInterruptScopes; the owning thread's only

  // ---- identity and name (L1: thread_record.cpp) ----
  std::atomic<std::uint64_t> ident{0};      // get_ident() of the thread; 0 until it runs
  std::atomic<std::uint64_t> native_id{0};  // gettid(); 0 until it runs (set by L2)
  std::atomic<bool> main{false};            // the main thread (see become_main_thread)
  std::string name() const;                 // a copy of the name
  void set_name(std::string name) noexcept;
  bool has_name() const noexcept;

  // ---- thread registry (L2: src/threading; see thread_state.hpp there) ----
  std::atomic<std::uint32_t> phase{kNew};   // ThreadPhase; also the key of start()/join()
  std::atomic<bool> daemon{false};          // changes only before start()
  std::atomic<Thread*> object{nullptr};     // what current_thread() returns; changed
                                            // under the registry lock
  Thread* orphan = nullptr;                 // substitute object after a daemon's
                                            // ~Thread; guarded by the registry lock
  bool dummy = false;                       // guarded by the registry lock
  pthread_t handle{};                       // the OS thread; guarded by the registry lock
  bool os_named = false;                    // guarded by the registry lock
  std::unique_ptr<ThreadTask, void (*)(ThreadTask*)> task{nullptr, nullptr};  // used by
                                            // the one thread that runs it
  std::stop_source stop;                    // Thread::request_stop(); run() runs in its scope

  // ---- debug tools (L5: src/debug) ----
  // Set once, by the thread itself, at its first hook; never freed. The data holds a
  // reference to this record.
  std::atomic<dbg::DebugThreadData*> debug{nullptr};

  // ---- lifetime (L1: thread_record.cpp) ----
  std::atomic<std::uint32_t> refs{0};
  bool emergency = false;          // in the thread's static storage: never shared or freed
  bool listed = false;             // on the list of live threads; guarded by its lock
  ThreadRecord* live_prev = nullptr;
  ThreadRecord* live_next = nullptr;

 private:
  std::string name_;  // guarded by one lock for every record's name (a leaf lock, held
                      // across fork() so that a child never inherits it locked)
};

namespace record_detail {
// The calling thread's record, once known. Constant-initialised, no destructor.
inline thread_local ThreadRecord* tls_record = nullptr;
ThreadRecord& make_this_thread_record() noexcept;
}  // namespace record_detail

// The calling thread's record, created at its first use. Never fails: if no memory is
// left, a record in the thread's static storage serves the parking lot (the registry
// and the debug tools then refuse it, see ThreadRecord::emergency).
WEFT_ALWAYS_INLINE ThreadRecord& this_thread_record() noexcept {
  if (ThreadRecord* r = record_detail::tls_record; WEFT_LIKELY(r != nullptr)) return *r;
  return record_detail::make_this_thread_record();
}

// A record for a thread that is not running yet (a new Thread). Throws std::bad_alloc.
RecordRef new_thread_record();

// Called first by a thread weft starts: `record` (from new_thread_record) becomes the
// calling thread's record. The thread must not have used this_thread_record() yet.
void adopt_thread_record(ThreadRecord& record) noexcept;

// Marks the calling thread's record as the main thread's; `rename`: its name becomes
// "MainThread" (a thread that was unnamed or a dummy). Called during static
// initialisation and, in a child process, by the thread that forked.
ThreadRecord& become_main_thread(bool rename) noexcept;

// The next number of the counter shared by "Thread-N" and "Dummy-N" (as in Python).
std::uint64_t next_thread_number() noexcept;

// Gives an unnamed record its default name: "MainThread" for the main thread, else
// "Dummy-N". Throws std::bad_alloc.
void name_if_unnamed(ThreadRecord& record);

// Calls fn for the record of every thread that is running and has a record, with the
// list's lock held: fn may retain the record (RecordRef), read its fields and take
// leaf locks, but must not park, unpark or allocate through weft primitives.
void for_each_thread_record(FunctionRef<void(ThreadRecord&)> fn);

}  // namespace weft::detail
