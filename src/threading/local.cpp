// SPDX-License-Identifier: Apache-2.0
// local<T> bookkeeping: per-thread tables and per-object slot lists.
//
// A slot is one (local object, thread) value. The slot's memory belongs to its
// thread's table (found by the object's id, which is never reused); the slot is also
// linked into its object's list so ~local() can reach every thread's value. Whoever
// unlinks a live slot under g_lock (the thread at exit, or ~local()) destroys its
// value, outside the lock, so a T's destructor may use other locals.
#include <atomic>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "weft/local.hpp"

#include "weft/detail/config.hpp"
#include "park/word_lock.hpp"

namespace weft::detail {

struct ThreadSlots;

struct LocalSlot {
  LocalBase* owner;           // nullptr once the value was taken for destruction
  void* value;
  LocalDestroy destroy;
  ThreadSlots* thread;
  LocalSlot* prev = nullptr;  // in the owner's list
  LocalSlot* next = nullptr;
};

struct ThreadSlots {
  std::unordered_map<std::uint64_t, LocalSlot*> by_id;  // only this thread touches it
  std::size_t dead = 0;                                  // guarded by g_lock
};

struct LocalAccess {
  static LocalSlot*& slots(LocalBase& l) { return l.slots_; }
  static std::uint64_t id(const LocalBase& l) { return l.id_; }
};

namespace {

WordLock& g_lock() {
  static auto* lock = new WordLock();  // leaked: used by exiting threads until the end
  return *lock;
}

std::atomic<std::uint64_t> g_next_id{1};
thread_local ThreadSlots* tls_slots = nullptr;

struct ExitGuard {
  ~ExitGuard() { local_thread_exit(); }
};
thread_local ExitGuard tls_exit_guard;

void unlink(LocalSlot* s) noexcept {
  if (s->prev != nullptr) {
    s->prev->next = s->next;
  } else {
    LocalAccess::slots(*s->owner) = s->next;
  }
  if (s->next != nullptr) s->next->prev = s->prev;
  s->prev = s->next = nullptr;
  s->owner = nullptr;
}

}  // namespace

LocalBase::LocalBase() noexcept : id_(g_next_id.fetch_add(1, std::memory_order_relaxed)) {}

LocalBase::~LocalBase() {
  std::vector<std::pair<void*, LocalDestroy>> doomed;
  for (;;) {
    std::size_t n = 0;
    {
      WordLockGuard guard(g_lock());
      if (slots_ == nullptr) break;
      for (LocalSlot* s = slots_; s != nullptr; s = s->next) ++n;
      if (doomed.capacity() >= n) {
        while (slots_ != nullptr) {
          LocalSlot* s = slots_;
          doomed.emplace_back(s->value, s->destroy);
          s->value = nullptr;
          ++s->thread->dead;
          unlink(s);
        }
        break;
      }
    }
    doomed.reserve(n);  // allocate outside the lock, then retry
  }
  for (auto& [value, destroy] : doomed) destroy(value);
}

void* LocalBase::find() const noexcept {
  ThreadSlots* ts = tls_slots;
  if (ts == nullptr) return nullptr;
  auto it = ts->by_id.find(id_);
  return it == ts->by_id.end() ? nullptr : it->second->value;
}

void LocalBase::insert(void* value, Destroy destroy) {
  (void)&tls_exit_guard;  // registers this thread's clean-up
  if (tls_slots == nullptr) tls_slots = new ThreadSlots();
  ThreadSlots* ts = tls_slots;
  auto slot = std::make_unique<LocalSlot>(LocalSlot{this, value, destroy, ts});
  ts->by_id.emplace(id_, slot.get());  // may throw: nothing linked yet
  LocalSlot* s = slot.release();
  {
    WordLockGuard guard(g_lock());
    s->next = slots_;
    if (slots_ != nullptr) slots_->prev = s;
    slots_ = s;
    // Drop the entries of destroyed locals now and then, so a long-lived thread's
    // table does not grow with every local it ever used.
    if (ts->dead > 16 && ts->dead * 2 > ts->by_id.size()) {
      for (auto it = ts->by_id.begin(); it != ts->by_id.end();) {
        if (it->second->owner == nullptr) {
          delete it->second;
          it = ts->by_id.erase(it);
        } else {
          ++it;
        }
      }
      ts->dead = 0;
    }
  }
}

void local_thread_exit() noexcept {
  ThreadSlots* ts = tls_slots;
  if (ts == nullptr) return;
  // A T's destructor may create values of other locals again: repeat until none.
  while (!ts->by_id.empty()) {
    std::unordered_map<std::uint64_t, LocalSlot*> table;
    LocalSlot* doomed = nullptr;  // chained through `next`
    {
      WordLockGuard guard(g_lock());
      table.swap(ts->by_id);
      for (auto& [id, s] : table) {
        if (s->owner == nullptr) continue;
        unlink(s);
        s->next = doomed;
        doomed = s;
      }
      ts->dead = 0;
    }
    for (LocalSlot* s = doomed; s != nullptr; s = s->next) s->destroy(s->value);
    for (auto& [id, s] : table) delete s;
  }
  tls_slots = nullptr;
  delete ts;
}

}  // namespace weft::detail
