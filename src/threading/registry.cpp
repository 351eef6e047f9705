// SPDX-License-Identifier: Apache-2.0
// The thread registry: the main thread's entry, fork() handling, for_each_thread.
#include <pthread.h>

#include <algorithm>

#include "threading/thread_state.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/thread_registry.hpp"
#include "weft/detail/wait.hpp"

namespace weft::detail {

thread_local ThreadState* tls_self = nullptr;

namespace {

// The state of the calling thread as the main thread.
std::shared_ptr<ThreadState> make_main_state() {
  auto st = std::make_shared<ThreadState>();
  st->name = "MainThread";
  st->main = true;
  st->handle = ::pthread_self();
  st->os_named = true;  // renamed only by an explicit set_name()
  st->ident.store(current_ident(), std::memory_order_relaxed);
  st->native_id.store(native_tid(), std::memory_order_relaxed);
  st->phase.store(kRunning, std::memory_order_relaxed);
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
  ThreadState* me = tls_self;
  std::shared_ptr<ThreadState> mine;
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
    if (!mine) mine = make_main_state();  // forked from a thread weft did not know
    mine->native_id.store(native_tid(), std::memory_order_relaxed);
    mine->main = true;
    if (mine->dummy) {  // as Python: a dummy that forks becomes a proper main thread
      mine->dummy = false;
      mine->name = "MainThread";
      mine->daemon.store(false, std::memory_order_relaxed);
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
  auto st = make_main_state();
  r->alive.push_back(st);
  r->main = st;
  tls_self = st.get();
  // L0's handlers first: the registry's WordLock may wait and wake through L0.
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

void unregister(Registry& r, const ThreadState* st) {
  auto it = std::find_if(r.alive.begin(), r.alive.end(),
                         [st](const std::shared_ptr<ThreadState>& p) { return p.get() == st; });
  if (it != r.alive.end()) r.alive.erase(it);
}

void for_each_thread(FunctionRef<void(const ThreadInfo&)> fn) {
  Registry& r = registry();
  WordLockGuard guard(r.lock);
  for (const auto& st : r.alive) {
    fn(ThreadInfo{st->ident.load(std::memory_order_relaxed),
                  st->native_id.load(std::memory_order_relaxed), st->name,
                  st->daemon.load(std::memory_order_relaxed),
                  st->phase.load(std::memory_order_relaxed) == kRunning,
                  st->object.load(std::memory_order_relaxed)});
  }
}

}  // namespace weft::detail
