// SPDX-License-Identifier: Apache-2.0
// The debug tools' per-thread records (ThreadRec): created at a thread's first hook,
// never freed, so reports and the trace can show threads that have ended.
#include <algorithm>
#include <string>

#include "debug/state.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::detail {
namespace dbg {

std::uint64_t g_main_ident = 0;

namespace {

// ---- thread records ----
struct Registry {
  WordLock lock;
  std::vector<ThreadRec*> recs;
  std::uint32_t next_tid = 1;
};
Registry& reg() {
  static auto* r = new Registry();
  return *r;
}

// The calling thread's record. A plain pointer (no destructor), so hooks that run after
// this thread's thread_local destructors (at exit, joining threads) still find it.
thread_local ThreadRec* t_rec = nullptr;

// Marks the record dead when the thread ends.
struct SelfHolder {
  ThreadRec* rec = nullptr;
  ~SelfHolder() {
    if (rec != nullptr) {
      WordLockGuard guard(rec->mu);
      rec->alive = false;
      rec->held.clear();
    }
  }
};
thread_local SelfHolder t_self;

}  // namespace

std::vector<Held>& ThreadRec::held_now() noexcept {
  const std::uint64_t e = g_epoch.load(std::memory_order_relaxed);
  if (epoch != e) {
    held.clear();
    epoch = e;
  }
  return held;
}

void ThreadRec::record(const TraceEvent& ev) noexcept {
  const std::size_t cap = g_trace_capacity.load(std::memory_order_relaxed);
  if (cap == 0) return;
  try {
    if (ring.size() < cap) {
      ring.push_back(ev);
      return;
    }
  } catch (...) {
    ++dropped;
    dropped_until = std::max(dropped_until, ev.ts + ev.dur);
    return;
  }
  // Full: overwrite the oldest.
  dropped_until = std::max(dropped_until, ring[ring_next].ts + ring[ring_next].dur);
  ring[ring_next] = ev;
  ring_next = (ring_next + 1) % ring.size();
  ++dropped;
}

ThreadRec& self() {
  if (WEFT_LIKELY(t_rec != nullptr)) return *t_rec;
  auto* rec = new ThreadRec();
  rec->ident = current_ident();
  rec->epoch = g_epoch.load(std::memory_order_relaxed);
  {
    Registry& r = reg();
    WordLockGuard guard(r.lock);
    rec->tid = r.next_tid++;
    if (rec->ident == g_main_ident) {
      rec->name = "MainThread";
    } else {
      rec->name = "Dummy-" + std::to_string(rec->tid);
    }
    r.recs.push_back(rec);
  }
  t_rec = rec;
  t_self.rec = rec;
  return *rec;
}

WordLock& registry_lock() noexcept { return reg().lock; }
std::vector<ThreadRec*>& registry() noexcept { return reg().recs; }

// Stats / trace for a finished wait or hold.
void record_event(ThreadRec& me, EvType type, const void* obj, ObjKind kind,
                  const NameRec* name, Nanos start, Nanos end, SourceLoc loc,
                  std::uint64_t arg, std::uint64_t arg2, std::uint32_t tid) {
  me.record(TraceEvent{start, end - start, name, obj, loc.file, arg, arg2, loc.line, tid, type,
                       kind});
}

}  // namespace dbg

namespace hooks {

using namespace dbg;

void thread_started(std::string_view name) noexcept {
  ThreadRec& me = self();
  WordLockGuard guard(me.mu);
  try {
    me.name = std::string(name);
  } catch (...) {
  }
  me.weft_thread = true;
}

void thread_finished() noexcept {
  ThreadRec& me = self();
  WordLockGuard guard(me.mu);
  me.alive = false;
  me.held.clear();
}

}  // namespace hooks
}  // namespace weft::detail
