// SPDX-License-Identifier: Apache-2.0
// The hooks of queues (put/get) and executors (task submitted, begun, ended).
#include <iterator>
#include <unordered_map>

#include "debug/hook_table.hpp"
#include "debug/state.hpp"

namespace weft::detail::hook_impl {

using namespace dbg;

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
    DebugThreadData& me = self();
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
  DebugThreadData& me = self();
  WordLockGuard guard(me.mu);
  try {
    me.tasks.push_back(DebugThreadData::Task{executor, task_id, now, queued});
  } catch (...) {
  }
}

void task_end(const void* executor, std::uint64_t task_id) noexcept {
  DebugThreadData& me = self();
  const Nanos now = now_ns();
  DebugThreadData::Task task{};
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

}  // namespace weft::detail::hook_impl
