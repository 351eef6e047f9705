// SPDX-License-Identifier: Apache-2.0
// The state of one thread as the registry and Thread see it, and the registry of the
// threads weft knows (private to src/threading).
//
// Every Thread owns a shared ThreadState; its running thread holds another reference,
// so nothing the thread touches dangles if the Thread object is destroyed first.
//
// Phases (ThreadState::phase, also the parking key for start() and join()):
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
// OS names: ThreadState::os_named (registry lock) is true while `handle` names a live
// OS thread whose name follows `name`: a weft thread sets it, and its OS name, under
// the lock before (T1) and clears it before (T3); the main thread and dummies (named
// by whoever started them) from their registration until they finish. set_name()
// renames the OS thread under the same lock, so it never touches an exited thread and
// never loses a race with the thread's own first naming.
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

#include "park/word_lock.hpp"
#include "weft/thread.hpp"

namespace weft {

// Private access to Thread for the registry code.
struct ThreadAccess {
  static Thread* attach(std::shared_ptr<detail::ThreadState> state) {
    return new Thread(Thread::AttachTag{}, std::move(state));
  }
};

namespace detail {

enum : std::uint32_t { kNew = 0, kStarting = 1, kRunning = 2, kFinished = 3 };

struct ThreadState {
  std::atomic<std::uint32_t> phase{kNew};
  std::atomic<std::uint64_t> ident{0};      // written before (T1)
  std::atomic<std::uint64_t> native_id{0};  // written before (T1)
  std::atomic<bool> daemon{false};          // changes only before start()
  std::atomic<Thread*> object{nullptr};     // what current_thread() returns; changed
                                            // under the registry lock
  std::string name;                         // guarded by the registry lock
  Thread* orphan = nullptr;                 // substitute object after a daemon's
                                            // ~Thread; guarded by the registry lock
  bool dummy = false;                       // set before the state is shared
  bool main = false;                        // set before the state is shared
  pthread_t handle{};                       // the OS thread; guarded by the registry lock
  bool os_named = false;                    // see "OS names"; guarded by the registry lock
  std::unique_ptr<ThreadTask> task;         // used by the one thread that runs it
  std::stop_source stop;                    // Thread::request_stop(); run() runs in its scope
};

struct Registry {
  WordLock lock;
  std::vector<std::shared_ptr<ThreadState>> alive;  // main, running weft threads, dummies
  std::uint64_t counter = 0;                        // Thread-N / Dummy-N, shared as in Python
  std::function<void(const ExceptHookArgs&)> hook;  // empty: the default hook
  bool atexit_registered = false;
  std::shared_ptr<ThreadState> main;
};

// The registry (registry.cpp); created during static initialisation by the thread that
// runs it, which becomes the main thread.
Registry& registry();

// The calling thread's state; nullptr until it is known (weft thread, main, dummy).
extern thread_local ThreadState* tls_self;

// Removes `st` from r.alive, if there; the registry lock must be held.
void unregister(Registry& r, const ThreadState* st);

// The calling thread's state, registering it as a dummy thread if weft does not know it
// (dummy_threads.cpp).
ThreadState& self_state();

// gettid() of the calling thread.
std::uint64_t native_tid() noexcept;

// Gives `thread` the OS name os_thread_name(name); best effort (os_thread_name.cpp).
void set_os_name(pthread_t thread, std::string_view name) noexcept;

// Waits, untimed, until `st` finished (exit_join.cpp).
void wait_finished(ThreadState& st);
// Registers Python's shutdown join (join_non_daemon_at_exit) with std::atexit once.
void register_atexit_once(Registry& r);

// Hands the exception being handled on this thread to the excepthook; call inside a
// catch block. Never throws (excepthook.cpp).
void report_exception(ThreadState& st) noexcept;

}  // namespace detail
}  // namespace weft
