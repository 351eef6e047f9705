// SPDX-License-Identifier: Apache-2.0
// The hooks of lock acquisitions, releases and parks: held stacks, lock-order checks,
// wait statistics and trace spans.
#include <iterator>
#include <vector>

#include "debug/hook_table.hpp"
#include "debug/state.hpp"

namespace weft::detail {
namespace dbg {
namespace {

// Holds are tracked for owned locks only (a Semaphore has no owner).
bool is_hold_traced(ObjKind kind) { return is_order_kind(kind); }

// Timestamps are taken only when a tool shows times (stats, trace, deadlock dump): lock-
// order checking alone never reads the clock. 0 means "not timed".
Nanos stamp() noexcept {
  return (flags() & (kDebugStats | kDebugTrace | kDebugDeadlock)) != 0 ? now_ns() : 0;
}

// Removes one level of obj from rec's held stack; true if found (hold time in *since).
bool pop_held(DebugThreadData& rec, const void* obj, Nanos* since, SourceLoc* loc) {
  auto& held = rec.held_now();
  for (auto it = held.rbegin(); it != held.rend(); ++it) {
    if (it->obj != obj) continue;
    *since = it->since;
    *loc = it->loc;
    if (--it->count == 0) held.erase(std::next(it).base());
    return true;
  }
  return false;
}

}  // namespace
}  // namespace dbg

namespace hook_impl {

using namespace dbg;

void before_acquire(const void* obj, ObjKind kind, SourceLoc loc) {
  DebugThreadData& me = self();
  const bool order = (flags() & kDebugLockOrder) != 0 && is_order_kind(kind);
  thread_local std::vector<Held> held;  // reused: no allocation per acquisition
  held.clear();
  {
    WordLockGuard guard(me.mu);
    me.pending_obj = obj;
    me.pending_since = stamp();
    if (order) {
      for (const Held& h : me.held_now()) {
        if (h.obj == obj) return;  // RLock re-entry (or a Lock relocked): no new order
        if (is_order_kind(h.kind)) held.push_back(h);
      }
    }
  }
  if (!held.empty()) {
    try {
      order_check(me, obj, kind, loc, held);
    } catch (...) {
      WordLockGuard guard(me.mu);
      me.pending_obj = nullptr;
      throw;
    }
  }
}

void after_acquire(const void* obj, ObjKind kind, SourceLoc loc, bool contended) noexcept {
  DebugThreadData& me = self();
  const Nanos now = stamp();
  Nanos waited = 0;
  {
    WordLockGuard guard(me.mu);
    if (me.pending_obj == obj && me.pending_since != 0) waited = now - me.pending_since;
    me.pending_obj = nullptr;
    if (is_hold_traced(kind)) {
      auto& held = me.held_now();
      bool found = false;
      if (kind == ObjKind::rlock) {
        for (Held& h : held) {
          if (h.obj == obj) {
            ++h.count;
            found = true;
            break;
          }
        }
      }
      if (!found) {
        try {
          held.push_back(Held{obj, kind, loc, now, 1});
        } catch (...) {
        }
      }
    }
  }
  if ((flags() & kDebugStats) != 0) {
    if (const NameRec* n = name_of(obj, kind)) {
      auto* s = const_cast<NameRec*>(n);
      s->used.store(true, std::memory_order_relaxed);
      s->acquisitions.fetch_add(1, std::memory_order_relaxed);
      if (contended) {
        s->contended.fetch_add(1, std::memory_order_relaxed);
        s->waits.fetch_add(1, std::memory_order_relaxed);
        s->wait_total.fetch_add(static_cast<std::uint64_t>(waited), std::memory_order_relaxed);
        atomic_max(s->wait_max, static_cast<std::uint64_t>(waited));
      }
    }
  }
}

void after_release(const void* obj, ObjKind kind) noexcept {
  if (!is_hold_traced(kind)) return;
  DebugThreadData& me = self();
  const Nanos now = stamp();
  Nanos since = 0;
  SourceLoc loc{};
  std::uint32_t holder_tid = me.tid;
  bool found = false;
  {
    WordLockGuard guard(me.mu);
    found = pop_held(me, obj, &since, &loc);
  }
  if (!found) {
    // A Lock released by a thread other than the one that acquired it.
    WordLockGuard reg_guard(registry_lock());
    for (DebugThreadData* rec : registry()) {
      if (rec == &me) continue;
      WordLockGuard guard(rec->mu);
      if (pop_held(*rec, obj, &since, &loc)) {
        holder_tid = rec->tid;
        found = true;
        break;
      }
    }
  }
  if (!found) return;  // acquired before the tools were on
  const std::uint32_t f = flags();
  if ((f & (kDebugStats | kDebugTrace)) == 0 || since == 0) return;
  const NameRec* n = name_of(obj, kind);
  if (n == nullptr) return;  // holds are reported for named objects only
  if ((f & kDebugStats) != 0) {
    auto* s = const_cast<NameRec*>(n);
    s->used.store(true, std::memory_order_relaxed);
    atomic_max(s->hold_max, static_cast<std::uint64_t>(now - since));
  }
  if ((f & kDebugTrace) != 0) {
    WordLockGuard guard(me.mu);
    record_event(me, EvType::hold, obj, kind, n, since, now, loc, 0, 0, holder_tid);
  }
}

void wait_begin(const WaitSite& site) noexcept {
  DebugThreadData& me = self();
  const Nanos now = now_ns();
  WordLockGuard guard(me.mu);
  me.waiting = true;
  me.wait_site = site;
  me.wait_since = now;
  const WaitSite& last = me.last_wait_site;
  if (me.last_wait_timed_out && last.object == site.object && last.kind == site.kind &&
      last.loc.file == site.loc.file && last.loc.line == site.loc.line) {
    ++me.stall_polls;  // the same wait again after its timeout: no progress
  } else {
    me.stall_since = now;
    me.stall_polls = 0;
  }
  me.last_wait_timed_out = false;
}

void wait_end(const WaitSite& site, bool timed_out) noexcept {
  DebugThreadData& me = self();
  const Nanos now = now_ns();
  Nanos since = 0;
  bool in_acquire = false;
  {
    WordLockGuard guard(me.mu);
    since = me.wait_since;
    me.waiting = false;
    me.last_wait_timed_out = timed_out;
    me.last_wait_site = site;
    in_acquire = me.pending_obj == site.object;
  }
  const std::uint32_t f = flags();
  if ((f & (kDebugStats | kDebugTrace)) == 0) return;
  const NameRec* n = name_of(site.object, site.kind);
  // A woken lock acquisition is counted by after_acquire (as contended, from the call).
  if ((f & kDebugStats) != 0 && n != nullptr && (timed_out || !in_acquire)) {
    auto* s = const_cast<NameRec*>(n);
    const auto waited = static_cast<std::uint64_t>(now - since);
    s->used.store(true, std::memory_order_relaxed);
    if (timed_out) {
      s->timeouts.fetch_add(1, std::memory_order_relaxed);
      s->timeout_total.fetch_add(waited, std::memory_order_relaxed);
    } else if (site.for_work) {
      s->idle_waits.fetch_add(1, std::memory_order_relaxed);
      s->idle_total.fetch_add(waited, std::memory_order_relaxed);
    } else {
      s->waits.fetch_add(1, std::memory_order_relaxed);
      s->wait_total.fetch_add(waited, std::memory_order_relaxed);
      atomic_max(s->wait_max, waited);
    }
  }
  if ((f & kDebugTrace) != 0) {
    WordLockGuard guard(me.mu);
    record_event(me, EvType::wait, site.object, site.kind, n, since, now, site.loc,
                 site.for_work ? 1 : 0, timed_out ? 1 : 0, me.tid);
  }
}

}  // namespace hook_impl
}  // namespace weft::detail
