// SPDX-License-Identifier: Apache-2.0
// The thread registry: the main thread's entry, fork() handling, for_each_thread.
#include <pthread.h>

#include <algorithm>
#include <new>
#include <string>

#include "threading/thread_state.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/thread_registry.hpp"
#include "weft/detail/wait.hpp"

namespace weft::detail {

thread_local ThreadRecord* tls_self = nullptr;

namespace {

// The calling thread's record, made the main thread's entry (`rename`: named
// "MainThread"). Throws std::bad_alloc.
RecordRef make_main_state(bool rename) {
  ThreadRecord& rec = this_thread_record();
  if (rec.emergency) throw std::bad_alloc();
  RecordRef st(&become_main_thread(rename));
  st->dummy = false;
  st->handle = ::pthread_self();
  st->os_named = true;  // renamed only by an explicit set_name()
  st->native_id.store(native_tid(), std::memory_order_relaxed);
  st->phase.store(kRunning, std::memory_order_relaxed);
  if (st->object.load(std::memory_order_relaxed) == nullptr)
    st->object.store(ThreadAccess::attach(st), std::memory_order_relaxed);
  return st;
}

// fork(): as Python's _after_fork. The registry lock is held across fork() so the
// child's copy is consistent; in the child only the forking thread exists, so every
// other entry is marked finished (their joiners return, at-exit has nothing to wait
// for) and the forking thread becomes the main thread.
void before_fork() noexcept { registry().lock.lock(); }
void after_fork_in_parent() noexcept { registry().lock.unlock(); }
void after_fork_in_child() noexcept {
  Registry& r = registry();
  ThreadRecord* me = tls_self;
  RecordRef mine;
  for (auto& st : r.alive) {
    if (st.get() == me) {
      mine = st;
    } else {
      st->phase.store(kFinished, std::memory_order_relaxed);
      st->os_named = false;  // its OS thread does not exist in the child
    }
  }
  r.alive.clear();
  r.lock.unlock();
  try {
    if (!mine) {
      mine = make_main_state(true);  // forked from a thread weft did not know
    } else {
      // As Python: a dummy that forks becomes a proper main thread.
      const bool was_dummy = mine->dummy;
      become_main_thread(was_dummy);
      mine->native_id.store(native_tid(), std::memory_order_relaxed);
      if (was_dummy) {
        mine->dummy = false;
        mine->daemon.store(false, std::memory_order_relaxed);
      }
    }
    WordLockGuard guard(r.lock);
    r.alive.push_back(mine);
    r.main = mine;
    tls_self = mine.get();
  } catch (...) {
    // Out of memory in the child: main_thread() keeps the parent's (finished) entry.
  }
}

Registry* make_registry() {
  auto* r = new Registry();  // leaked on purpose: used until the process ends
  RecordRef st = make_main_state(true);
  r->alive.push_back(st);
  r->main = st;
  tls_self = st.get();
  // L0's handlers first: the registry's WordLock may wait and wake through L0. The
  // records' handlers are registered already (make_main_state made the main thread's
  // record), so fork() takes the registry lock before the records' name lock, in the
  // order set_name() takes them.
  ensure_wait_layer_ready();
  ::pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
  return r;
}

// The thread that runs weft's static initialisation is the main thread.
[[maybe_unused]] const bool g_registry_ready = (registry(), true);

}  // namespace

Registry& registry() {
  static Registry* r = make_registry();
  return *r;
}

void unregister(Registry& r, const ThreadRecord* st) {
  auto it = std::find_if(r.alive.begin(), r.alive.end(),
                         [st](const RecordRef& p) { return p.get() == st; });
  if (it != r.alive.end()) r.alive.erase(it);
}

void for_each_thread(FunctionRef<void(const ThreadInfo&)> fn) {
  Registry& r = registry();
  WordLockGuard guard(r.lock);
  for (const auto& st : r.alive) {
    const std::string name = st->name();
    fn(ThreadInfo{st->ident.load(std::memory_order_relaxed),
                  st->native_id.load(std::memory_order_relaxed), name,
                  st->daemon.load(std::memory_order_relaxed),
                  st->phase.load(std::memory_order_relaxed) == kRunning,
                  st->object.load(std::memory_order_relaxed)});
  }
}

}  // namespace weft::detail
