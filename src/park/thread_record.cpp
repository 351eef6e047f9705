// SPDX-License-Identifier: Apache-2.0
// Thread records: creation, adoption, reference counts, names and the list of the
// threads that run (see thread_record.hpp).
#include "park/thread_record.hpp"

#include <pthread.h>

#include <new>
#include <string>

#include "weft/detail/intrusive_list.hpp"
#include "weft/detail/wait.hpp"

namespace weft::detail {
namespace {

// The records of running threads, in a doubly linked list. Leaked on purpose: threads
// exit (and unlist themselves) while static destructors run.
struct LiveList {
  WordLock lock;
  WordLock name_lock;  // guards every record's name; taken last
  ThreadRecord* head = nullptr;
  pthread_key_t exit_key{};  // its destructor ends the thread's hold on its record
};

std::atomic<std::uint64_t> g_thread_counter{0};

LiveList& live_list() noexcept;

void unlist(LiveList& l, ThreadRecord& r) noexcept {
  if (!r.listed) return;
  list_unlink<&ThreadRecord::live_prev, &ThreadRecord::live_next>(l.head, r);
  r.listed = false;
}

// The key's destructor: runs at thread exit, after the thread_local destructors.
extern "C" void on_thread_exit(void* p) {
  auto* r = static_cast<ThreadRecord*>(p);
  LiveList& l = live_list();
  {
    WordLockGuard guard(l.lock);
    unlist(l, *r);
  }
  if (record_detail::tls_record == r) record_detail::tls_record = nullptr;
  release(r);
}

// Makes `r` the calling thread's record; r holds the thread's reference already.
void attach_to_this_thread(ThreadRecord& r) noexcept {
  r.ident.store(current_ident(), std::memory_order_relaxed);
  record_detail::tls_record = &r;
  LiveList& l = live_list();
  {
    WordLockGuard guard(l.lock);
    list_push_front<&ThreadRecord::live_prev, &ThreadRecord::live_next>(l.head, r);
    r.listed = true;
  }
  // Fails only without memory for the key's slot; the record then stays with the thread.
  (void)::pthread_setspecific(l.exit_key, &r);
}

// fork(): the child has only the forking thread, so the list keeps only its record.
void lock_list() noexcept {
  live_list().lock.lock();
  live_list().name_lock.lock();
}
void unlock_list() noexcept {
  live_list().name_lock.unlock();
  live_list().lock.unlock();
}
void reset_list_in_child() noexcept {
  LiveList& l = live_list();
  ThreadRecord* me = record_detail::tls_record;
  for (ThreadRecord* r = l.head; r != nullptr;) {
    ThreadRecord* next = r->live_next;
    r->live_prev = r->live_next = nullptr;
    r->listed = false;
    r = next;
  }
  l.head = nullptr;
  if (me != nullptr && !me->emergency) {
    me->listed = true;
    l.head = me;
  }
  l.name_lock.unlock();
  l.lock.unlock();
}

LiveList& live_list() noexcept {
  static LiveList* list = [] {
    auto* l = new LiveList();
    (void)::pthread_key_create(&l->exit_key, on_thread_exit);
    // L0's handlers first: unlocking the list may wake a thread through L0.
    ensure_wait_layer_ready();
    ::pthread_atfork(lock_list, unlock_list, reset_list_in_child);
    return l;
  }();
  return *list;
}

// The thread that runs weft's static initialisation is the main thread.
[[maybe_unused]] const bool g_main_ready = (become_main_thread(true), true);

}  // namespace

std::string ThreadRecord::name() const {
  WordLockGuard guard(live_list().name_lock);
  return name_;
}

void ThreadRecord::set_name(std::string name) noexcept {
  WordLockGuard guard(live_list().name_lock);
  name_.swap(name);
  // The old name is freed here, outside the lock.
}

bool ThreadRecord::has_name() const noexcept {
  WordLockGuard guard(live_list().name_lock);
  return !name_.empty();
}

void retain(ThreadRecord* record) noexcept {
  record->refs.fetch_add(1, std::memory_order_relaxed);
}

void release(ThreadRecord* record) noexcept {
  if (record->emergency) return;
  if (record->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete record;
}

namespace record_detail {

ThreadRecord& make_this_thread_record() noexcept {
  auto* r = new (std::nothrow) ThreadRecord();
  if (r == nullptr) {
    // No memory: a record in static thread storage, which only the parking lot uses.
    alignas(ThreadRecord) thread_local unsigned char storage[sizeof(ThreadRecord)];
    r = ::new (static_cast<void*>(storage)) ThreadRecord();
    r->emergency = true;
    r->ident.store(current_ident(), std::memory_order_relaxed);
    tls_record = r;
    return *r;
  }
  retain(r);  // the thread's own reference
  attach_to_this_thread(*r);
  return *r;
}

}  // namespace record_detail

RecordRef new_thread_record() { return RecordRef(new ThreadRecord()); }

void adopt_thread_record(ThreadRecord& record) noexcept {
  retain(&record);  // the thread's own reference
  attach_to_this_thread(record);
}

ThreadRecord& become_main_thread(bool rename) noexcept {
  ThreadRecord& r = this_thread_record();
  r.main.store(true, std::memory_order_relaxed);
  if (rename) {
    try {
      r.set_name("MainThread");
    } catch (...) {
      // No memory: the thread keeps its name.
    }
  }
  return r;
}

std::uint64_t next_thread_number() noexcept {
  return g_thread_counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

void name_if_unnamed(ThreadRecord& record) {
  if (record.has_name()) return;
  if (record.main.load(std::memory_order_relaxed)) {
    record.set_name("MainThread");
  } else {
    record.set_name("Dummy-" + std::to_string(next_thread_number()));
  }
}

void for_each_thread_record(FunctionRef<void(ThreadRecord&)> fn) {
  LiveList& l = live_list();
  WordLockGuard guard(l.lock);
  for (ThreadRecord* r = l.head; r != nullptr; r = r->live_next) fn(*r);
}

}  // namespace weft::detail
