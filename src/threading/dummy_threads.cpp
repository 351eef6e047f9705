// SPDX-License-Identifier: Apache-2.0
// Dummy threads: the registry entry of a thread weft did not start, created when it
// first asks for its Thread (current_thread()) and dropped when it exits.
#include <pthread.h>

#include <new>
#include <string>

#include "threading/thread_state.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::detail {
namespace {

// Drops the dummy entry of a thread weft did not start, when that thread exits.
struct DummyGuard {
  RecordRef st;
  ~DummyGuard() {
    if (!st) return;
    Thread* obj = nullptr;
    {
      Registry& r = registry();
      WordLockGuard guard(r.lock);
      unregister(r, st.get());
      obj = st->object.exchange(nullptr, std::memory_order_relaxed);
      st->os_named = false;
      st->phase.store(kFinished, std::memory_order_release);
    }
    unpark_all(&st->phase);
    delete obj;
    if (tls_self == st.get()) tls_self = nullptr;
  }
};
thread_local DummyGuard tls_dummy;

}  // namespace

ThreadRecord& self_state() {
  if (ThreadRecord* s = tls_self) return *s;
  Registry& r = registry();
  ThreadRecord& rec = this_thread_record();
  if (rec.emergency) throw std::bad_alloc();
  RecordRef st(&rec);
  name_if_unnamed(rec);  // "Dummy-N", unless the debug tools named it already
  st->dummy = true;
  st->daemon.store(true, std::memory_order_relaxed);  // Python's _DummyThread is daemon
  st->native_id.store(native_tid(), std::memory_order_relaxed);
  st->phase.store(kRunning, std::memory_order_relaxed);
  st->object.store(ThreadAccess::attach(st), std::memory_order_relaxed);
  {
    WordLockGuard guard(r.lock);
    st->handle = ::pthread_self();
    st->os_named = true;  // renamed only by an explicit set_name()
    r.alive.push_back(st);
  }
  tls_dummy.st = st;
  tls_self = &rec;
  return rec;
}

}  // namespace weft::detail
