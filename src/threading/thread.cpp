// SPDX-License-Identifier: Apache-2.0
// Thread and the module functions of Python's threading (current_thread, enumerate, ...).
// The state, the phases (T1)-(T4) and the registry are described in thread_state.hpp.
#include "weft/thread.hpp"

#include <pthread.h>

#include <string>
#include <system_error>
#include <thread>

#include "threading/thread_state.hpp"
#include "weft/cancel.hpp"
#include "weft/detail/bubble.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/errors.hpp"
#include "weft/local.hpp"

namespace weft {
namespace detail {
namespace {

void run_task(ThreadRecord& st) {
  std::unique_ptr<ThreadTask> task(st.task.release());
  if (task) task->invoke(st.stop.get_token());
}

// A CancelledError that escapes run() after request_stop() ends the thread quietly.
void run_in_own_scope(ThreadRecord& st, Thread* self, bool direct) {
  try {
    CancelScope scope(st.stop.get_token());
    if (direct) {
      run_task(st);
    } else {
      self->run();
    }
  } catch (const CancelledError&) {
    if (!st.stop.stop_requested()) throw;
  }
}

void delete_task(ThreadTask* task) { delete task; }

// The body of every thread weft starts. `self` is used only when run() may be
// overridden (direct == false); then the subclass keeps the object alive.
// `bubble`: the virtual-time bubble the thread joins (nullptr: none).
void thread_main(RecordRef st, Thread* self, bool direct, Bubble* bubble) noexcept {
  Registry& r = registry();
  adopt_thread_record(*st);  // sets the ident
  bubble_thread_enter(bubble);  // uses the record: after adopting it
  tls_self = st.get();
  st->native_id.store(native_tid(), std::memory_order_relaxed);
  {
    WordLockGuard guard(r.lock);
    st->handle = ::pthread_self();
    try {
      set_os_name(st->handle, st->name());
    } catch (...) {
      // No memory for a copy of the name: the OS name stays the creator's.
    }
    st->os_named = true;
  }
  st->phase.store(kRunning, std::memory_order_release);  // (T1)
  unpark_all(&st->phase);
  if (debug_on()) hooks::thread_started({});  // the record is named already

  try {
    run_in_own_scope(*st, self, direct);
  } catch (...) {
    report_exception(*st);
  }
  local_thread_exit();  // Python: a thread's local values die with it
  if (debug_on()) hooks::thread_finished();

  Thread* orphan = nullptr;
  {
    WordLockGuard guard(r.lock);
    unregister(r, st.get());
    orphan = st->orphan;
    st->orphan = nullptr;
    if (orphan != nullptr) st->object.store(nullptr, std::memory_order_relaxed);
    st->os_named = false;
    st->phase.store(kFinished, std::memory_order_release);  // (T3)
  }
  unpark_all(&st->phase);
  delete orphan;
  tls_self = nullptr;
  bubble_thread_exit();  // after waking the joiners, which then no longer count as blocked
}

}  // namespace
}  // namespace detail

// ---- Thread ----

Thread::Thread() : Thread(ThreadOptions{}, true, nullptr) {}

Thread::Thread(ThreadOptions opts, bool inherit_daemon, std::unique_ptr<detail::ThreadTask> task)
    : state_(detail::new_thread_record()) {
  detail::ThreadRecord& st = *state_;
  st.task = decltype(st.task)(task.release(), detail::delete_task);
  bool daemonic = opts.daemon;
  if (inherit_daemon) {
    // Python inherits the creating thread's flag; a thread weft does not know counts
    // as non-daemon (rather than as a daemon dummy) so that C++ threads are joined.
    const detail::ThreadRecord* creator = detail::tls_self;
    daemonic = creator != nullptr && !creator->dummy &&
               creator->daemon.load(std::memory_order_relaxed);
  }
  st.daemon.store(daemonic, std::memory_order_relaxed);
  st.object.store(this, std::memory_order_relaxed);
  if (opts.name.empty()) opts.name = "Thread-" + std::to_string(detail::next_thread_number());
  detail::hooks::object_named(this, detail::ObjKind::thread, opts.name);
  st.set_name(std::move(opts.name));
}

Thread::Thread(AttachTag, detail::RecordRef state)
    : state_(std::move(state)), attached_(true) {}

Thread::~Thread() {
  if (attached_ || !state_) return;
  detail::hooks::object_destroyed(this);
  detail::ThreadRecord& st = *state_;
  if (st.phase.load(std::memory_order_acquire) != detail::kRunning) return;
  const bool on_itself = detail::tls_self == &st;
  if (!st.daemon.load(std::memory_order_relaxed) && !on_itself) {
    detail::wait_finished(st);
    return;
  }
  // Detach: the thread keeps running with a substitute object for current_thread().
  detail::Registry& r = detail::registry();
  detail::WordLockGuard guard(r.lock);
  if (st.phase.load(std::memory_order_relaxed) == detail::kFinished) return;
  try {
    st.orphan = ThreadAccess::attach(state_);
  } catch (...) {
    st.orphan = nullptr;  // out of memory: current_thread() there will make a dummy
  }
  st.object.store(st.orphan, std::memory_order_release);
  if (st.orphan == nullptr && detail::tls_self == &st) detail::tls_self = nullptr;
}

void Thread::run() {
  if (state_) detail::run_task(*state_);
}

void Thread::set_run_not_overridden(const std::type_info& type) noexcept { plain_type_ = &type; }

void Thread::start() {
  detail::ThreadRecord& st = *state_;
  std::uint32_t expected = detail::kNew;
  if (attached_ || !st.phase.compare_exchange_strong(expected, detail::kStarting,
                                                     std::memory_order_acq_rel))
    throw RuntimeError("threads can only be started once");
  detail::Registry& r = detail::registry();
  detail::Bubble* bubble = nullptr;
  try {
    detail::register_atexit_once(r);
    {
      // Registered before it runs (Python's _limbo): counted by active_count() at once.
      detail::WordLockGuard guard(r.lock);
      r.alive.push_back(state_);
    }
    // Without an override of run(), the thread never touches *this (see ~Thread).
    const bool direct = typeid(*this) == typeid(Thread) || typeid(*this) == *plain_type_;
    bubble = detail::bubble_thread_starting();
    std::thread(detail::thread_main, state_, this, direct, bubble).detach();
  } catch (const std::exception& e) {
    detail::bubble_thread_start_failed(bubble);
    {
      detail::WordLockGuard guard(r.lock);
      detail::unregister(r, &st);
    }
    st.phase.store(detail::kNew, std::memory_order_release);
    throw RuntimeError(std::string("can't start new thread: ") + e.what());
  }
  while (st.phase.load(std::memory_order_acquire) == detail::kStarting) {  // (T2)
    // Not interruptible: the thread runs already, start() must report it started.
    detail::park(
        &st.phase,
        [&] { return st.phase.load(std::memory_order_relaxed) == detail::kStarting; },
        detail::kForever, detail::WaitSite{this, detail::ObjKind::thread, {}},
        detail::Interruptible::kNo);
  }
}

bool Thread::join_until(detail::Deadline deadline, detail::SourceLoc loc) {
  detail::ThreadRecord& st = *state_;
  if (st.phase.load(std::memory_order_acquire) == detail::kNew)
    throw RuntimeError("cannot join thread before it is started");
  if (detail::tls_self == &st) throw RuntimeError("cannot join current thread");
  if (st.dummy) throw RuntimeError("cannot join a dummy thread");
  const detail::WaitSite site{this, detail::ObjKind::thread, loc};
  while (st.phase.load(std::memory_order_acquire) != detail::kFinished) {  // (T4)
    if (deadline != detail::kForever && detail::Clock::now() >= deadline) return false;
    const detail::ParkResult r = detail::park(
        &st.phase, [&] { return st.phase.load(std::memory_order_relaxed) != detail::kFinished; },
        deadline, site);
    // Interrupted: joining leaves no state behind (#13).
    if (r.status == detail::ParkStatus::kInterrupted) detail::throw_interruption();
  }
  return true;
}

bool Thread::request_stop() noexcept { return state_->stop.request_stop(); }

std::stop_token Thread::stop_token() const noexcept { return state_->stop.get_token(); }

bool Thread::is_alive() const noexcept {
  return state_->phase.load(std::memory_order_acquire) == detail::kRunning;
}

std::string Thread::name() const { return state_->name(); }

void Thread::set_name(std::string name) {
  if (!attached_) detail::hooks::object_named(this, detail::ObjKind::thread, name);
  detail::Registry& r = detail::registry();
  detail::WordLockGuard guard(r.lock);
  if (state_->os_named) detail::set_os_name(state_->handle, name);
  state_->set_name(std::move(name));
}

bool Thread::daemon() const noexcept { return state_->daemon.load(std::memory_order_relaxed); }

void Thread::set_daemon(bool daemonic) {
  if (attached_ || state_->phase.load(std::memory_order_acquire) != detail::kNew)
    throw RuntimeError("cannot set daemon status of active thread");
  state_->daemon.store(daemonic, std::memory_order_relaxed);
}

std::optional<std::uint64_t> Thread::ident() const noexcept {
  if (state_->phase.load(std::memory_order_acquire) < detail::kRunning) return std::nullopt;  // (T2)
  return state_->ident.load(std::memory_order_relaxed);
}

std::optional<std::uint64_t> Thread::native_id() const noexcept {
  if (state_->phase.load(std::memory_order_acquire) < detail::kRunning) return std::nullopt;  // (T2)
  return state_->native_id.load(std::memory_order_relaxed);
}

// ---- module functions ----

Thread& current_thread() {
  detail::ThreadRecord& st = detail::self_state();
  Thread* obj = st.object.load(std::memory_order_acquire);
  if (obj == nullptr) {  // only after an out-of-memory detach: fall back to a dummy
    detail::tls_self = nullptr;
    return *detail::self_state().object.load(std::memory_order_acquire);
  }
  return *obj;
}

Thread& main_thread() {
  return *detail::registry().main->object.load(std::memory_order_acquire);
}

std::size_t active_count() {
  detail::Registry& r = detail::registry();
  detail::WordLockGuard guard(r.lock);
  return r.alive.size();
}

std::vector<Thread*> enumerate() {
  detail::Registry& r = detail::registry();
  std::vector<Thread*> out;
  for (;;) {
    std::size_t n = 0;
    {
      detail::WordLockGuard guard(r.lock);
      n = r.alive.size();
      if (out.capacity() >= n) {
        for (const auto& st : r.alive) {
          if (Thread* t = st->object.load(std::memory_order_relaxed)) out.push_back(t);
        }
        return out;
      }
    }
    out.reserve(n + 4);  // allocate outside the WordLock, then retry
  }
}

std::uint64_t get_ident() noexcept { return detail::current_ident(); }

std::uint64_t get_native_id() noexcept { return detail::native_tid(); }

}  // namespace weft
