// SPDX-License-Identifier: Apache-2.0
// Debug hook entry points, object names, per-thread records, and switching the tools
// on (WEFT_DEBUG / WEFT_TRACE at start-up, or weft::debug::enable()).
//
// This translation unit defines g_debug_flags, which every primitive reads, so it is
// always linked in, and its start-up object always runs.
#include "weft/detail/hooks.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <new>
#include <memory>
#include <unordered_map>

#include "debug/state.hpp"
#include "weft/debug.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::detail {

std::atomic<std::uint32_t> g_debug_flags{0};

const char* obj_kind_name(ObjKind kind) noexcept {
  switch (kind) {
    case ObjKind::lock: return "Lock";
    case ObjKind::rlock: return "RLock";
    case ObjKind::condition: return "Condition";
    case ObjKind::semaphore: return "Semaphore";
    case ObjKind::event: return "Event";
    case ObjKind::barrier: return "Barrier";
    case ObjKind::queue: return "Queue";
    case ObjKind::future: return "Future";
    case ObjKind::thread: return "Thread";
    case ObjKind::executor: return "Executor";
    case ObjKind::timer: return "Timer";
    case ObjKind::other: break;
  }
  return "object";
}

namespace dbg {

std::atomic<std::uint64_t> g_epoch{1};
std::atomic<std::size_t> g_trace_capacity{16384};
std::string g_trace_path;

namespace {

const Clock::time_point g_start = Clock::now();

// ---- names: object -> interned NameRec ----
constexpr std::size_t kShards = 16;
struct alignas(64) NameShard {
  WordLock lock;
  // An object and its first member share an address (a Queue and its Lock): names are
  // per (address, kind).
  std::unordered_map<const void*, std::vector<const NameRec*>> names;
};
struct Names {
  NameShard shards[kShards];
  WordLock intern_lock;
  std::map<std::pair<ObjKind, std::string>, std::unique_ptr<NameRec>> interned;
};
// Built in static storage on first use and never destroyed (used until the very end of the
// process). No heap: a destroyed object's hook reaches here from a destructor, which must
// not throw std::bad_alloc when memory is exhausted.
Names& names() {
  alignas(Names) static unsigned char storage[sizeof(Names)];
  static Names* n = ::new (static_cast<void*>(storage)) Names();
  return *n;
}
NameShard& shard_of(const void* obj) {
  const auto h = reinterpret_cast<std::uintptr_t>(obj) * 0x9E3779B97F4A7C15ull;
  return names().shards[h >> 60];
}

const NameRec* intern(ObjKind kind, std::string_view name) {
  Names& n = names();
  WordLockGuard guard(n.intern_lock);
  auto& slot = n.interned[{kind, std::string(name)}];
  if (!slot) {
    slot = std::make_unique<NameRec>();
    slot->kind = kind;
    slot->name = std::string(name);
  }
  return slot.get();
}

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

std::uint64_t g_main_ident = 0;

// ---- configuration ----
struct Config {
  WordLock lock;
  debug::ReportHandler handler;
  std::chrono::milliseconds interval{100};
  std::chrono::milliseconds hang_timeout{10000};
};
Config& config() {
  static auto* c = new Config();
  return *c;
}
std::atomic<int> g_mode{static_cast<int>(Mode::report)};

// Holds are tracked for owned locks only (a Semaphore has no owner).
bool is_hold_traced(ObjKind kind) { return is_order_kind(kind); }

}  // namespace

WordLock& config_lock() noexcept { return config().lock; }

Nanos now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - g_start).count();
}
Nanos to_ns(Deadline t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t - g_start).count();
}

void atomic_max(std::atomic<std::uint64_t>& a, std::uint64_t v) noexcept {
  std::uint64_t cur = a.load(std::memory_order_relaxed);
  while (cur < v && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

bool is_order_kind(ObjKind kind) noexcept { return kind == ObjKind::lock || kind == ObjKind::rlock; }

const NameRec* name_of(const void* obj, ObjKind kind) noexcept {
  NameShard& s = shard_of(obj);
  WordLockGuard guard(s.lock);
  auto it = s.names.find(obj);
  if (it == s.names.end()) return nullptr;
  for (const NameRec* n : it->second)
    if (n->kind == kind) return n;
  return nullptr;
}

std::vector<const NameRec*> all_names() {
  Names& n = names();
  WordLockGuard guard(n.intern_lock);
  std::vector<const NameRec*> out;
  out.reserve(n.interned.size());
  for (const auto& e : n.interned) out.push_back(e.second.get());
  return out;
}

std::string describe(const void* obj, ObjKind kind, const NameRec* name) {
  std::string out = obj_kind_name(kind);
  if (name != nullptr && !name->name.empty()) {
    out += " \"" + name->name + "\"";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, " %p", obj);
    out += buf;
  }
  return out;
}

std::string describe(const void* obj, ObjKind kind) { return describe(obj, kind, name_of(obj, kind)); }

std::string site_string(SourceLoc loc) {
  if (loc.file == nullptr || loc.file[0] == '\0') return "?";
  std::string_view f(loc.file);
  const auto last = f.rfind('/');
  if (last != std::string_view::npos && last > 0) {
    const auto prev = f.rfind('/', last - 1);
    if (prev != std::string_view::npos) f.remove_prefix(prev + 1);
  }
  return std::string(f) + ":" + std::to_string(loc.line);
}

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

std::uint32_t flags() noexcept { return g_debug_flags.load(std::memory_order_relaxed); }

Mode current_mode() noexcept { return static_cast<Mode>(g_mode.load(std::memory_order_relaxed)); }

void emit_report(std::string_view kind, std::string_view text) {
  debug::ReportHandler handler;
  {
    WordLockGuard guard(config().lock);
    handler = config().handler;
  }
  if (handler) {
    handler(kind, text);
  } else {
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  }
}

namespace {

// Timestamps are taken only when a tool shows times (stats, trace, deadlock dump): lock-
// order checking alone never reads the clock. 0 means "not timed".
Nanos stamp() noexcept {
  return (flags() & (kDebugStats | kDebugTrace | kDebugDeadlock)) != 0 ? now_ns() : 0;
}

// Stats / trace for a finished wait or hold.
void record_event(ThreadRec& me, EvType type, const void* obj, ObjKind kind,
                  const NameRec* name, Nanos start, Nanos end, SourceLoc loc,
                  std::uint64_t arg, std::uint64_t arg2, std::uint32_t tid) {
  me.record(TraceEvent{start, end - start, name, obj, loc.file, arg, arg2, loc.line, tid, type,
                       kind});
}

// Removes one level of obj from rec's held stack; true if found (hold time in *since).
bool pop_held(ThreadRec& rec, const void* obj, Nanos* since, SourceLoc* loc) {
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

namespace hooks {

using namespace dbg;

void before_acquire(const void* obj, ObjKind kind, SourceLoc loc) {
  ThreadRec& me = self();
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
  ThreadRec& me = self();
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
  ThreadRec& me = self();
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
    for (ThreadRec* rec : registry()) {
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
  ThreadRec& me = self();
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
  ThreadRec& me = self();
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

void object_named(const void* obj, ObjKind kind, std::string_view name) {
  const NameRec* rec = intern(kind, name);
  NameShard& s = shard_of(obj);
  WordLockGuard guard(s.lock);
  auto& list = s.names[obj];
  for (const NameRec*& n : list) {
    if (n->kind == kind) {
      n = rec;
      return;
    }
  }
  list.push_back(rec);
}

void object_destroyed(const void* obj) noexcept {
  {
    NameShard& s = shard_of(obj);
    WordLockGuard guard(s.lock);
    s.names.erase(obj);
  }
  order_forget(obj);  // also after lock-order checking was switched off
}

namespace {
void queue_event(const void* queue, std::size_t depth, std::uint64_t seq, bool put) noexcept {
  const std::uint32_t f = flags();
  const NameRec* n = name_of(queue, ObjKind::queue);
  if ((f & kDebugStats) != 0 && n != nullptr) {
    auto* s = const_cast<NameRec*>(n);
    s->used.store(true, std::memory_order_relaxed);
    (put ? s->puts : s->gets).fetch_add(1, std::memory_order_relaxed);
    atomic_max(s->depth_max, depth);
  }
  if ((f & kDebugTrace) != 0) {
    ThreadRec& me = self();
    const Nanos now = now_ns();
    WordLockGuard guard(me.mu);
    record_event(me, put ? EvType::put : EvType::get, queue, ObjKind::queue, n, now, now,
                 SourceLoc{}, seq, depth, me.tid);
  }
}

struct Submits {
  WordLock lock;
  std::unordered_map<std::uint64_t, Nanos> when;  // key: executor ^ id mix
};
Submits& submits() {
  static auto* s = new Submits();
  return *s;
}
std::uint64_t task_key(const void* executor, std::uint64_t id) {
  return (reinterpret_cast<std::uintptr_t>(executor) * 0x9E3779B97F4A7C15ull) ^ id;
}
}  // namespace

void queue_put(const void* queue, std::size_t depth, std::uint64_t seq) noexcept {
  queue_event(queue, depth, seq, true);
}
void queue_get(const void* queue, std::size_t depth, std::uint64_t seq) noexcept {
  queue_event(queue, depth, seq, false);
}

void task_submitted(const void* executor, std::uint64_t task_id) noexcept {
  if ((flags() & (kDebugStats | kDebugTrace)) == 0) return;
  Submits& s = submits();
  WordLockGuard guard(s.lock);
  try {
    s.when[task_key(executor, task_id)] = now_ns();
  } catch (...) {
  }
}

void task_begin(const void* executor, std::uint64_t task_id) noexcept {
  const Nanos now = now_ns();
  Nanos queued = -1;
  {
    Submits& s = submits();
    WordLockGuard guard(s.lock);
    auto it = s.when.find(task_key(executor, task_id));
    if (it != s.when.end()) {
      queued = now - it->second;
      s.when.erase(it);
    }
  }
  ThreadRec& me = self();
  WordLockGuard guard(me.mu);
  try {
    me.tasks.push_back(ThreadRec::Task{executor, task_id, now, queued});
  } catch (...) {
  }
}

void task_end(const void* executor, std::uint64_t task_id) noexcept {
  ThreadRec& me = self();
  const Nanos now = now_ns();
  ThreadRec::Task task{};
  bool found = false;
  {
    WordLockGuard guard(me.mu);
    for (auto it = me.tasks.rbegin(); it != me.tasks.rend(); ++it) {
      if (it->executor == executor && it->id == task_id) {
        task = *it;
        me.tasks.erase(std::next(it).base());
        found = true;
        break;
      }
    }
  }
  if (!found) return;
  const std::uint32_t f = flags();
  const NameRec* n = name_of(executor, ObjKind::executor);
  if ((f & kDebugStats) != 0 && n != nullptr) {
    auto* s = const_cast<NameRec*>(n);
    s->used.store(true, std::memory_order_relaxed);
    s->tasks.fetch_add(1, std::memory_order_relaxed);
    s->run_total.fetch_add(static_cast<std::uint64_t>(now - task.start), std::memory_order_relaxed);
    atomic_max(s->run_max, static_cast<std::uint64_t>(now - task.start));
    if (task.queue_wait >= 0) {
      s->qwait_total.fetch_add(static_cast<std::uint64_t>(task.queue_wait),
                               std::memory_order_relaxed);
      atomic_max(s->qwait_max, static_cast<std::uint64_t>(task.queue_wait));
    }
  }
  if ((f & kDebugTrace) != 0) {
    WordLockGuard guard(me.mu);
    record_event(me, EvType::task, executor, ObjKind::executor, n, task.start, now, SourceLoc{},
                 task_id, static_cast<std::uint64_t>(task.queue_wait), me.tid);
  }
}

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

namespace dbg {
namespace {

void at_exit() {
  const std::uint32_t f = flags();
  if ((f & kDebugStats) != 0) print_stats(std::cerr);
  if ((f & kDebugTrace) != 0) {
    std::string path;
    {
      WordLockGuard guard(config().lock);
      path = g_trace_path;
    }
    if (!path.empty() && !write_trace_file(path))
      std::fprintf(stderr, "weft: could not write the trace to %s\n", path.c_str());
  }
}

// A trace switched on starts empty (buffers left from an earlier trace are dropped).
void clear_traces() {
  WordLockGuard reg_guard(registry_lock());
  for (ThreadRec* rec : registry()) {
    WordLockGuard guard(rec->mu);
    std::vector<TraceEvent>().swap(rec->ring);
    rec->ring_next = 0;
    rec->dropped = 0;
    rec->dropped_until = 0;
  }
}

// Statistics switched on start from zero.
void clear_stats() {
  for (const NameRec* c : all_names()) {
    auto* n = const_cast<NameRec*>(c);
    n->used.store(false, std::memory_order_relaxed);
    for (auto* a : {&n->acquisitions, &n->contended, &n->waits, &n->wait_total, &n->wait_max,
                    &n->hold_max, &n->puts, &n->gets, &n->depth_max, &n->tasks, &n->qwait_total,
                    &n->qwait_max, &n->run_total, &n->run_max, &n->idle_waits, &n->idle_total,
                    &n->timeouts, &n->timeout_total})
      a->store(0, std::memory_order_relaxed);
  }
}

void apply(const debug::Options& opts) {
  static std::atomic<bool> exit_registered{false};
  if (!exit_registered.exchange(true)) std::atexit(at_exit);
  std::uint32_t add = 0;
  if (opts.lock_order) add |= kDebugLockOrder;
  if (opts.deadlock) add |= kDebugDeadlock;
  if (opts.stats) add |= kDebugStats;
  if (!opts.trace_path.empty()) add |= kDebugTrace;
  if (opts.lock_order) g_mode.store(static_cast<int>(opts.lock_order_mode));
  g_trace_capacity.store(opts.trace_events_per_thread);
  {
    WordLockGuard guard(config().lock);
    if (!opts.trace_path.empty()) g_trace_path = opts.trace_path;
    config().interval = opts.watchdog_interval;
    config().hang_timeout = opts.hang_timeout;
  }
  const std::uint32_t before = g_debug_flags.fetch_or(add);
  if ((add & kDebugTrace) != 0 && (before & kDebugTrace) == 0) clear_traces();
  if ((add & kDebugStats) != 0 && (before & kDebugStats) == 0) clear_stats();
  if (opts.deadlock) watchdog_start(opts.watchdog_interval, opts.hang_timeout);
  if (opts.dump_on_sigquit) sigquit_dump_start();
}

// WEFT_HANG_SECONDS: decimal seconds, >= 0 (0: no hang report).
void read_hang_seconds(debug::Options& opts) {
  const char* env = std::getenv("WEFT_HANG_SECONDS");
  if (env == nullptr || env[0] == '\0') return;
  char* end = nullptr;
  const double seconds = std::strtod(env, &end);
  if (end == env || *end != '\0' || !(seconds >= 0) || seconds > 1e9) {
    std::fprintf(stderr, "weft: WEFT_HANG_SECONDS: '%s' is not a number of seconds\n", env);
    return;
  }
  opts.hang_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000 + 0.5));
}

// Reads WEFT_DEBUG and WEFT_TRACE once, before main().
struct StartUp {
  StartUp() {
    g_main_ident = current_ident();
    const char* env = std::getenv("WEFT_DEBUG");
    const char* trace = std::getenv("WEFT_TRACE");
    debug::Options opts;
    bool any = false;
    if (env != nullptr && env[0] != '\0') {
      std::string_view rest(env);
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        std::string_view mode;
        if (const auto colon = item.find(':'); colon != std::string_view::npos) {
          mode = item.substr(colon + 1);
          item = item.substr(0, colon);
        }
        if (item == "lock-order" || item == "all") {
          opts.lock_order = true;
          if (mode == "throw") {
            opts.lock_order_mode = Mode::throw_error;
          } else if (mode == "abort") {
            opts.lock_order_mode = Mode::abort;
          } else if (!mode.empty() && mode != "report") {
            std::fprintf(stderr, "weft: WEFT_DEBUG: unknown lock-order mode '%.*s'\n",
                         static_cast<int>(mode.size()), mode.data());
          }
        }
        if (item == "deadlock" || item == "all") opts.deadlock = true;
        if (item == "stats" || item == "all") opts.stats = true;
        if (item == "dump-on-sigquit" || item == "all") opts.dump_on_sigquit = true;
        if (item != "lock-order" && item != "deadlock" && item != "stats" &&
            item != "dump-on-sigquit" && item != "all" && !item.empty()) {
          std::fprintf(stderr,
                       "weft: WEFT_DEBUG: unknown tool '%.*s' (known: lock-order[:report|"
                       ":throw|:abort], deadlock, stats, dump-on-sigquit, all)\n",
                       static_cast<int>(item.size()), item.data());
        }
      }
      any = opts.lock_order || opts.deadlock || opts.stats || opts.dump_on_sigquit;
      read_hang_seconds(opts);
    }
    // WEFT_LOCK_ORDER_MODE=report|throw|abort overrides a mode given in WEFT_DEBUG.
    if (const char* m = std::getenv("WEFT_LOCK_ORDER_MODE"); m != nullptr && m[0] != '\0') {
      const std::string_view mode(m);
      if (mode == "throw") {
        opts.lock_order_mode = Mode::throw_error;
      } else if (mode == "abort") {
        opts.lock_order_mode = Mode::abort;
      } else if (mode == "report") {
        opts.lock_order_mode = Mode::report;
      } else {
        std::fprintf(stderr, "weft: WEFT_LOCK_ORDER_MODE: unknown mode '%s'\n", m);
      }
    }
    if (trace != nullptr && trace[0] != '\0') {
      opts.trace_path = trace;
      any = true;
    }
    if (any) apply(opts);
  }
};
StartUp g_start_up;

}  // namespace
}  // namespace dbg
}  // namespace weft::detail

namespace weft::debug {

using namespace weft::detail;

void enable(const Options& opts) { dbg::apply(opts); }

void disable() {
  dbg::watchdog_stop();
  dbg::sigquit_dump_stop();
  g_debug_flags.store(0);
  // Held stacks are no longer maintained: forget them all, lazily.
  dbg::g_epoch.fetch_add(1);
}

Options current_options() {
  Options o;
  const std::uint32_t f = dbg::flags();
  o.lock_order = (f & kDebugLockOrder) != 0;
  o.deadlock = (f & kDebugDeadlock) != 0;
  o.stats = (f & kDebugStats) != 0;
  o.lock_order_mode = dbg::current_mode();
  o.trace_events_per_thread = dbg::g_trace_capacity.load();
  o.dump_on_sigquit = dbg::sigquit_dump_on();
  WordLockGuard guard(dbg::config().lock);
  if ((f & kDebugTrace) != 0) o.trace_path = dbg::g_trace_path;
  o.watchdog_interval = dbg::config().interval;
  o.hang_timeout = dbg::config().hang_timeout;
  return o;
}

Mode set_lock_order_mode(Mode mode) {
  return static_cast<Mode>(dbg::g_mode.exchange(static_cast<int>(mode)));
}

Mode lock_order_mode() { return dbg::current_mode(); }

ReportHandler set_report_handler(ReportHandler handler) {
  WordLockGuard guard(dbg::config().lock);
  ReportHandler old = std::move(dbg::config().handler);
  dbg::config().handler = std::move(handler);
  return old;
}

void dump(std::ostream& out) { out << dbg::dump_text(true); }

void report(std::ostream& out) { dbg::print_stats(out); }

bool write_trace(const std::string& path) {
  std::string p = path;
  if (p.empty()) {
    WordLockGuard guard(dbg::config().lock);
    p = dbg::g_trace_path;
  }
  if (p.empty()) return false;
  return dbg::write_trace_file(p);
}

}  // namespace weft::debug
