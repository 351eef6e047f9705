// SPDX-License-Identifier: Apache-2.0
// The registry of the threads weft knows (private to src/threading). A thread's state is
// the registry section of its record (src/park/thread_record.hpp).
//
// Every Thread holds a reference to its record; its running thread holds another, so
// nothing the thread touches dangles if the Thread object is destroyed first.
//
// Phases (ThreadRecord::phase, also the parking key for start() and join()):
//   kNew -> kStarting (start()) -> kRunning (set by the new thread) -> kFinished.
//   (T1) The new thread stores ident/native_id, registers, then stores kRunning
//        (release) and unparks start(). Pairs with (T2).
//   (T2) start() / ident() load the phase (acquire) before reading ident/native_id.
//   (T3) At the end the thread unregisters, stores kFinished (release) under the
//        registry lock and unparks every joiner. Pairs with (T4).
//   (T4) join() loads the phase (acquire): run()'s effects are visible after join().
//   Joiners validate `phase != kFinished` under the bucket lock, so (T3)'s unpark_all
//   cannot miss them.
//
// OS names: ThreadRecord::os_named (registry lock) is true while `handle` names a live
// OS thread whose name follows `name`: a weft thread sets it, and its OS name, under
// the lock before (T1) and clears it before (T3); the main thread and dummies (named
// by whoever started them) from their registration until they finish. set_name()
// renames the record and the OS thread under the same lock, so it never touches an
// exited thread and never loses a race with the thread's own first naming.
//
// The registry is a leaked singleton guarded by one WordLock (never an instrumented
// primitive), so daemon threads and at-exit code never touch destroyed globals.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "park/thread_record.hpp"
#include "park/word_lock.hpp"
#include "weft/thread.hpp"

namespace weft {

// Private access to Thread for the registry code.
struct ThreadAccess {
  static Thread* attach(detail::RecordRef state) {
    return new Thread(Thread::AttachTag{}, std::move(state));
  }
};

namespace detail {

struct Registry {
  WordLock lock;
  std::vector<RecordRef> alive;  // main, running weft threads, dummies
  std::function<void(const ExceptHookArgs&)> hook;  // empty: the default hook
  bool atexit_registered = false;
  RecordRef main;
};

// The registry (registry.cpp); created during static initialisation by the thread that
// runs it, which becomes the main thread.
Registry& registry();

// The calling thread's state; nullptr until it is known (weft thread, main, dummy).
extern thread_local ThreadRecord* tls_self;

// Removes `st` from r.alive, if there; the registry lock must be held.
void unregister(Registry& r, const ThreadRecord* st);

// The calling thread's state, registering it as a dummy thread if weft does not know it
// (dummy_threads.cpp).
ThreadRecord& self_state();

// gettid() of the calling thread.
std::uint64_t native_tid() noexcept;

// Gives `thread` the OS name os_thread_name(name); best effort (os_thread_name.cpp).
void set_os_name(pthread_t thread, std::string_view name) noexcept;

// Waits, untimed, until `st` finished (exit_join.cpp).
void wait_finished(ThreadRecord& st);
// Registers Python's shutdown join (join_non_daemon_at_exit) with std::atexit once.
void register_atexit_once(Registry& r);

// Hands the exception being handled on this thread to the excepthook; call inside a
// catch block. Never throws (excepthook.cpp).
void report_exception(ThreadRecord& st) noexcept;

}  // namespace detail
}  // namespace weft
