// SPDX-License-Identifier: Apache-2.0
// Thread, the thread registry, the excepthook and Python's shutdown join.
//
// Every Thread owns a shared ThreadState; its running thread holds another reference,
// so nothing the thread touches dangles if the Thread object is destroyed first.
//
// Phases (ThreadState::phase, also the parking key for start() and join()):
//   kNew -> kStarting (start()) -> kRunning (set by the new thread) -> kFinished.
//   (T1) The new thread stores ident/native_id, registers, then stores kRunning
//        (release) and unparks start(). Pairs with (T2).
//   (T2) start() / ident() load the phase (acquire) before reading ident/native_id.
//   (T3) At the end the thread unregisters, stores kFinished (release) under the
//        registry lock and unparks every joiner. Pairs with (T4).
//   (T4) join() loads the phase (acquire): run()'s effects are visible after join().
//   Joiners validate `phase != kFinished` under the bucket lock, so (T3)'s unpark_all
//   cannot miss them.
//
// OS names: ThreadState::os_named (registry lock) is true while `handle` names a live
// OS thread whose name follows `name`: a weft thread sets it, and its OS name, under
// the lock before (T1) and clears it before (T3); the main thread and dummies (named
// by whoever started them) from their registration until they finish. set_name()
// renames the OS thread under the same lock, so it never touches an exited thread and
// never loses a race with the thread's own first naming.
//
// The registry is a leaked singleton guarded by one WordLock (never an instrumented
// primitive), so daemon threads and at-exit code never touch destroyed globals.
#include "weft/thread.hpp"

#include <cxxabi.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <thread>

#include "park/word_lock.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/thread_registry.hpp"
#include "weft/detail/wait.hpp"
#include "weft/errors.hpp"
#include "weft/local.hpp"

namespace weft {
namespace detail {

enum : std::uint32_t { kNew = 0, kStarting = 1, kRunning = 2, kFinished = 3 };

struct ThreadState {
  std::atomic<std::uint32_t> phase{kNew};
  std::atomic<std::uint64_t> ident{0};      // written before (T1)
  std::atomic<std::uint64_t> native_id{0};  // written before (T1)
  std::atomic<bool> daemon{false};          // changes only before start()
  std::atomic<Thread*> object{nullptr};     // what current_thread() returns; changed
                                            // under the registry lock
  std::string name;                         // guarded by the registry lock
  Thread* orphan = nullptr;                 // substitute object after a daemon's
                                            // ~Thread; guarded by the registry lock
  bool dummy = false;                       // set before the state is shared
  bool main = false;                        // set before the state is shared
  pthread_t handle{};                       // the OS thread; guarded by the registry lock
  bool os_named = false;                    // see "OS names"; guarded by the registry lock
  std::unique_ptr<ThreadTask> task;         // used by the one thread that runs it
};

namespace {

struct Registry {
  WordLock lock;
  std::vector<std::shared_ptr<ThreadState>> alive;  // main, running weft threads, dummies
  std::uint64_t counter = 0;                        // Thread-N / Dummy-N, shared as in Python
  std::function<void(const ExceptHookArgs&)> hook;  // empty: the default hook
  bool atexit_registered = false;
  std::shared_ptr<ThreadState> main;
};

// The calling thread's state; nullptr until it is known (weft thread, main, dummy).
thread_local ThreadState* tls_self = nullptr;

std::uint64_t native_tid() noexcept { return static_cast<std::uint64_t>(::syscall(SYS_gettid)); }

constexpr std::size_t kOsNameMax = 15;  // the kernel's TASK_COMM_LEN - 1

bool is_number_group_byte(char c) noexcept {
  return (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// os_thread_name() into `out` (NUL-terminated), without allocating.
void cut_os_name(std::string_view name, char (&out)[kOsNameMax + 1]) noexcept {
  name = name.substr(0, name.find('\0'));
  std::string_view tail;
  std::size_t head = name.size();
  if (name.size() > kOsNameMax) {
    std::size_t start = name.size();
    while (start > 0 && is_number_group_byte(name[start - 1])) --start;
    tail = name.substr(start);
    if (tail.size() > 7 || tail.find_first_of("0123456789") == std::string_view::npos) tail = {};
    head = kOsNameMax - tail.size();
    // name[head] is the first byte dropped: a UTF-8 continuation byte means the
    // character it belongs to began before the cut, so drop that character whole.
    for (int i = 0; i < 3 && head > 0 && (static_cast<unsigned char>(name[head]) & 0xC0) == 0x80; ++i)
      --head;
  }
  name.substr(0, head).copy(out, head);
  tail.copy(out + head, tail.size());
  out[head + tail.size()] = '\0';
}

// Best effort: an OS that refuses (or a thread that is gone) leaves the name as it was.
void set_os_name(pthread_t thread, std::string_view name) noexcept {
  char buf[kOsNameMax + 1];
  cut_os_name(name, buf);
  (void)::pthread_setname_np(thread, buf);
}

}  // namespace

std::string os_thread_name(std::string_view name) {
  char buf[kOsNameMax + 1];
  cut_os_name(name, buf);
  return buf;
}

void set_current_os_thread_name(std::string_view name) noexcept { set_os_name(::pthread_self(), name); }

}  // namespace detail

// Private access to Thread for the registry code.
struct ThreadAccess {
  static Thread* attach(std::shared_ptr<detail::ThreadState> state) {
    return new Thread(Thread::AttachTag{}, std::move(state));
  }
};

namespace detail {
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

Registry& registry();

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

Registry& registry() {
  static Registry* r = make_registry();
  return *r;
}

// The thread that runs weft's static initialisation is the main thread.
[[maybe_unused]] const bool g_registry_ready = (registry(), true);

void unregister(Registry& r, const ThreadState* st) {
  auto it = std::find_if(r.alive.begin(), r.alive.end(),
                         [st](const std::shared_ptr<ThreadState>& p) { return p.get() == st; });
  if (it != r.alive.end()) r.alive.erase(it);
}

// Waits, untimed, until `st` finished. Used at exit.
void wait_finished(ThreadState& st) {
  while (st.phase.load(std::memory_order_acquire) != kFinished) {  // (T4)
    park(
        &st.phase, [&] { return st.phase.load(std::memory_order_relaxed) != kFinished; },
        kForever, WaitSite{st.object.load(std::memory_order_relaxed), ObjKind::thread, {}});
  }
}

std::atomic<bool> g_exit_began{false};

// Python's threading._shutdown: the main thread counts as stopped first (so a thread
// joining main_thread() can finish), then every non-daemon thread still running is
// joined, also the ones they start meanwhile; daemon threads are abandoned.
void join_non_daemon_at_exit() {
  Registry& r = registry();
  ThreadState* me = tls_self;
  if (me != nullptr && me->main) {
    {
      WordLockGuard guard(r.lock);
      unregister(r, me);
      me->phase.store(kFinished, std::memory_order_release);
    }
    unpark_all(&me->phase);
  }
  for (;;) {
    std::shared_ptr<ThreadState> next;
    {
      WordLockGuard guard(r.lock);
      for (const auto& st : r.alive) {
        if (st.get() != me && !st->main && !st->dummy &&
            !st->daemon.load(std::memory_order_relaxed)) {
          next = st;
          break;
        }
      }
    }
    if (!next) break;
    wait_finished(*next);
  }
  g_exit_began.store(true, std::memory_order_release);
}

void register_atexit_once(Registry& r) {
  bool first = false;
  {
    WordLockGuard guard(r.lock);
    first = !r.atexit_registered;
    r.atexit_registered = true;
  }
  if (first) std::atexit([] { join_non_daemon_at_exit(); });
}

std::string demangle(const char* mangled) {
  int status = 0;
  char* out = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return mangled;
  std::string s(out);
  std::free(out);  // NOLINT: __cxa_demangle allocates with malloc
  return s;
}

// Demangled type of the exception being handled; call inside a catch block.
std::string current_exception_type() {
  const std::type_info* ti = abi::__cxa_current_exception_type();
  return ti != nullptr ? demangle(ti->name()) : std::string("unknown");
}

void print_report(const char* header, const std::string& name, const std::string& type,
                  const std::string& what) noexcept {
  try {
    std::string text = header + name + ":\n" + type;
    if (!what.empty()) text += ": " + what;
    text += '\n';
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  } catch (...) {
    std::fputs("Exception in thread (report failed)\n", stderr);
  }
}

void default_hook(const ExceptHookArgs& args) noexcept {
  std::string name = "<unknown>";
  try {
    if (args.thread != nullptr) name = args.thread->name();
  } catch (...) {
  }
  print_report("Exception in thread ", name, args.exc_type, args.what);
}

// Hands the exception being handled on this thread to the excepthook. Never throws.
void report_exception(ThreadState& st) noexcept {
  try {
    ExceptHookArgs args{std::current_exception(), current_exception_type(), {},
                        st.object.load(std::memory_order_acquire)};
    try {
      std::rethrow_exception(args.exc);
    } catch (const std::exception& e) {
      args.what = e.what();
    } catch (...) {
    }
    std::function<void(const ExceptHookArgs&)> hook;
    {
      Registry& r = registry();
      WordLockGuard guard(r.lock);
      hook = r.hook;
    }
    if (!hook) {
      default_hook(args);
      return;
    }
    try {
      hook(args);
    } catch (...) {
      std::string what;
      try {
        throw;
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      print_report("Exception in threading.excepthook", "", current_exception_type(), what);
    }
  } catch (...) {
    std::fputs("Exception in thread: could not report it\n", stderr);
  }
}

void run_task(ThreadState& st) {
  std::unique_ptr<ThreadTask> task = std::move(st.task);
  if (task) task->invoke();
}

// The body of every thread weft starts. `self` is used only when run() may be
// overridden (direct == false); then the subclass keeps the object alive.
void thread_main(std::shared_ptr<ThreadState> st, Thread* self, bool direct) noexcept {
  Registry& r = registry();
  tls_self = st.get();
  st->ident.store(current_ident(), std::memory_order_relaxed);
  st->native_id.store(native_tid(), std::memory_order_relaxed);
  std::string name;
  {
    WordLockGuard guard(r.lock);
    st->handle = ::pthread_self();
    set_os_name(st->handle, st->name);
    st->os_named = true;
    if (debug_on()) name = st->name;
  }
  st->phase.store(kRunning, std::memory_order_release);  // (T1)
  unpark_all(&st->phase);
  if (debug_on()) hooks::thread_started(name);

  try {
    if (direct) {
      run_task(*st);
    } else {
      self->run();
    }
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
}

// Drops the dummy entry of a thread weft did not start, when that thread exits.
struct DummyGuard {
  std::shared_ptr<ThreadState> st;
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

ThreadState& self_state() {
  if (ThreadState* s = tls_self) return *s;
  Registry& r = registry();
  auto st = std::make_shared<ThreadState>();
  st->dummy = true;
  st->daemon.store(true, std::memory_order_relaxed);  // Python's _DummyThread is daemon
  st->ident.store(current_ident(), std::memory_order_relaxed);
  st->native_id.store(native_tid(), std::memory_order_relaxed);
  st->phase.store(kRunning, std::memory_order_relaxed);
  st->object.store(ThreadAccess::attach(st), std::memory_order_relaxed);
  {
    WordLockGuard guard(r.lock);
    st->name = "Dummy-" + std::to_string(++r.counter);
    st->handle = ::pthread_self();
    st->os_named = true;  // renamed only by an explicit set_name()
    r.alive.push_back(st);
  }
  tls_dummy.st = st;
  tls_self = st.get();
  return *st;
}

}  // namespace

bool exit_began() noexcept { return g_exit_began.load(std::memory_order_acquire); }

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

}  // namespace detail

// ---- Thread ----

Thread::Thread() : Thread(ThreadOptions{}, true, nullptr) {}

Thread::Thread(ThreadOptions opts, bool inherit_daemon, std::unique_ptr<detail::ThreadTask> task)
    : state_(std::make_shared<detail::ThreadState>()) {
  detail::Registry& r = detail::registry();
  detail::ThreadState& st = *state_;
  st.task = std::move(task);
  bool daemonic = opts.daemon;
  if (inherit_daemon) {
    // Python inherits the creating thread's flag; a thread weft does not know counts
    // as non-daemon (rather than as a daemon dummy) so that C++ threads are joined.
    const detail::ThreadState* creator = detail::tls_self;
    daemonic = creator != nullptr && !creator->dummy &&
               creator->daemon.load(std::memory_order_relaxed);
  }
  st.daemon.store(daemonic, std::memory_order_relaxed);
  st.object.store(this, std::memory_order_relaxed);
  if (opts.name.empty()) {
    detail::WordLockGuard guard(r.lock);
    opts.name = "Thread-" + std::to_string(++r.counter);
  }
  detail::hooks::object_named(this, detail::ObjKind::thread, opts.name);
  st.name = std::move(opts.name);  // not shared yet: no lock needed
}

Thread::Thread(AttachTag, std::shared_ptr<detail::ThreadState> state)
    : state_(std::move(state)), attached_(true) {}

Thread::~Thread() {
  if (attached_ || !state_) return;
  detail::hooks::object_destroyed(this);
  detail::ThreadState& st = *state_;
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
  detail::ThreadState& st = *state_;
  std::uint32_t expected = detail::kNew;
  if (attached_ || !st.phase.compare_exchange_strong(expected, detail::kStarting,
                                                     std::memory_order_acq_rel))
    throw RuntimeError("threads can only be started once");
  detail::Registry& r = detail::registry();
  try {
    detail::register_atexit_once(r);
    {
      // Registered before it runs (Python's _limbo): counted by active_count() at once.
      detail::WordLockGuard guard(r.lock);
      r.alive.push_back(state_);
    }
    // Without an override of run(), the thread never touches *this (see ~Thread).
    const bool direct = typeid(*this) == typeid(Thread) || typeid(*this) == *plain_type_;
    std::thread(detail::thread_main, state_, this, direct).detach();
  } catch (const std::exception& e) {
    {
      detail::WordLockGuard guard(r.lock);
      detail::unregister(r, &st);
    }
    st.phase.store(detail::kNew, std::memory_order_release);
    throw RuntimeError(std::string("can't start new thread: ") + e.what());
  }
  while (st.phase.load(std::memory_order_acquire) == detail::kStarting) {  // (T2)
    detail::park(
        &st.phase,
        [&] { return st.phase.load(std::memory_order_relaxed) == detail::kStarting; },
        detail::kForever, detail::WaitSite{this, detail::ObjKind::thread, {}});
  }
}

bool Thread::join_until(detail::Deadline deadline, detail::SourceLoc loc) {
  detail::ThreadState& st = *state_;
  if (st.phase.load(std::memory_order_acquire) == detail::kNew)
    throw RuntimeError("cannot join thread before it is started");
  if (detail::tls_self == &st) throw RuntimeError("cannot join current thread");
  if (st.dummy) throw RuntimeError("cannot join a dummy thread");
  const detail::WaitSite site{this, detail::ObjKind::thread, loc};
  while (st.phase.load(std::memory_order_acquire) != detail::kFinished) {  // (T4)
    if (deadline != detail::kForever && detail::Clock::now() >= deadline) return false;
    detail::park(
        &st.phase, [&] { return st.phase.load(std::memory_order_relaxed) != detail::kFinished; },
        deadline, site);
  }
  return true;
}

bool Thread::is_alive() const noexcept {
  return state_->phase.load(std::memory_order_acquire) == detail::kRunning;
}

std::string Thread::name() const {
  detail::Registry& r = detail::registry();
  detail::WordLockGuard guard(r.lock);
  return state_->name;
}

void Thread::set_name(std::string name) {
  if (!attached_) detail::hooks::object_named(this, detail::ObjKind::thread, name);
  detail::Registry& r = detail::registry();
  detail::WordLockGuard guard(r.lock);
  state_->name = std::move(name);
  if (state_->os_named) detail::set_os_name(state_->handle, state_->name);
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
  detail::ThreadState& st = detail::self_state();
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

void set_excepthook(std::function<void(const ExceptHookArgs&)> hook) {
  detail::Registry& r = detail::registry();
  {
    detail::WordLockGuard guard(r.lock);
    r.hook.swap(hook);
  }
  // `hook` now holds the old function: destroyed here, outside the WordLock.
}

}  // namespace weft
