// SPDX-License-Identifier: Apache-2.0
// The debug tools' data of each thread (DebugThreadData), attached to the thread's record:
// created at the thread's first hook and never freed, so reports and the trace can show
// threads that have ended.
#include <algorithm>
#include <new>
#include <string>

#include "debug/hook_table.hpp"
#include "debug/state.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::detail {
namespace dbg {

namespace {

struct Registry {
  WordLock lock;
  std::vector<DebugThreadData*> recs;
  std::uint32_t next_tid = 1;
};
Registry& reg() {
  static auto* r = new Registry();
  return *r;
}

// Marks the data dead when the thread ends.
struct SelfHolder {
  DebugThreadData* rec = nullptr;
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

std::vector<Held>& DebugThreadData::held_now() noexcept {
  const std::uint64_t e = g_epoch.load(std::memory_order_relaxed);
  if (epoch != e) {
    held.clear();
    epoch = e;
  }
  return held;
}

void DebugThreadData::append_event(const TraceEvent& ev) noexcept {
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

DebugThreadData& self() {
  // Through the record, which the thread finds until it has exited: hooks that run after
  // its thread_local destructors (at exit, joining threads) still find their data.
  ThreadRecord& record = this_thread_record();
  if (DebugThreadData* d = record.debug.load(std::memory_order_acquire); WEFT_LIKELY(d != nullptr))
    return *d;
  if (record.emergency) throw std::bad_alloc();  // no memory for a record
  name_if_unnamed(record);  // "MainThread" or "Dummy-N", as the registry names them
  auto* rec = new DebugThreadData();
  rec->record = RecordRef(&record);
  rec->epoch = g_epoch.load(std::memory_order_relaxed);
  {
    Registry& r = reg();
    WordLockGuard guard(r.lock);
    rec->tid = r.next_tid++;
    r.recs.push_back(rec);
  }
  record.debug.store(rec, std::memory_order_release);
  t_self.rec = rec;
  return *rec;
}

WordLock& registry_lock() noexcept { return reg().lock; }
std::vector<DebugThreadData*>& registry() noexcept { return reg().recs; }

// Stats / trace for a finished wait or hold.
void record_event(DebugThreadData& me, EvType type, const void* obj, ObjKind kind,
                  const NameRec* name, Nanos start, Nanos end, SourceLoc loc,
                  std::uint64_t arg, std::uint64_t arg2, std::uint32_t tid) {
  me.append_event(TraceEvent{start, end - start, name, obj, loc.file, arg, arg2, loc.line, tid, type,
                       kind});
}

}  // namespace dbg

namespace hook_impl {

using namespace dbg;

void thread_started(std::string_view name) noexcept {
  DebugThreadData& me = self();
  if (!name.empty()) {
    try {
      me.record->set_name(std::string(name));
    } catch (...) {
    }
  }
  WordLockGuard guard(me.mu);
  me.weft_thread = true;
}

void thread_finished() noexcept {
  DebugThreadData& me = self();
  WordLockGuard guard(me.mu);
  me.alive = false;
  me.held.clear();
}

}  // namespace hook_impl
}  // namespace weft::detail
