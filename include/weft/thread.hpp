// SPDX-License-Identifier: Apache-2.0
// weft/thread.hpp: Thread and the module functions of Python's threading.
//
// Part of <weft/threading.hpp>. Thread mirrors threading.Thread (target + args, or a
// subclass overriding run()); current_thread(), main_thread(), active_count(),
// enumerate(), get_ident(), get_native_id() and set_excepthook() mirror the module
// functions. Design: docs/design.md (L2 primitives).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/thread_record_ref.hpp"

namespace weft {

class Thread;

/// Options for Thread(ThreadOptions, target, args...).   (Python: Thread(name=, daemon=))
/// An empty name means the default "Thread-N".
struct ThreadOptions {
  std::string name;
  bool daemon = false;
};

namespace detail {

// True if target(token, args...) is how F is called: its first parameter takes a
// std::stop_token (std::jthread's convention).
template <class F, class... Args>
inline constexpr bool kTakesStopToken =
    std::is_invocable_v<std::decay_t<F>, std::stop_token, std::decay_t<Args>...>;

// The target and its arguments, type-erased and invoked at most once. `token` is the
// thread's stop token, passed on to a target that takes one (kTakesStopToken).
class ThreadTask {
 public:
  virtual ~ThreadTask() = default;
  virtual void invoke(std::stop_token token) = 0;
};

template <class F, class... Args>
class ThreadTaskImpl final : public ThreadTask {
 public:
  template <class G, class... A>
  explicit ThreadTaskImpl(G&& fn, A&&... args)
      : fn_(std::forward<G>(fn)), args_(std::forward<A>(args)...) {}
  void invoke(std::stop_token token) override {
    if constexpr (kTakesStopToken<F, Args...>) {
      std::apply(std::move(fn_),
                 std::tuple_cat(std::forward_as_tuple(std::move(token)), std::move(args_)));
    } else {
      std::apply(std::move(fn_), std::move(args_));
    }
  }

 private:
  F fn_;
  std::tuple<Args...> args_;
};

template <class F, class... Args>
std::unique_ptr<ThreadTask> make_thread_task(F&& fn, Args&&... args) {
  return std::make_unique<ThreadTaskImpl<std::decay_t<F>, std::decay_t<Args>...>>(
      std::forward<F>(fn), std::forward<Args>(args)...);
}

// Always false; a dependent condition so that the static_assert in Thread's copy/move
// traps fires only when one of them is used.
template <class>
inline constexpr bool kThreadIsNotMovable = false;

#define WEFT_THREAD_NOT_MOVABLE_MESSAGE                                                     \
  "weft::Thread is not movable (it is shared by reference with its running thread, as "    \
  "Python's Thread object); keep threads in a std::deque / std::list, or hold "             \
  "std::unique_ptr<weft::Thread>"

// A callable target: invocable once with its decayed arguments as rvalues (std::thread's
// rule), possibly after a std::stop_token (std::jthread's), and not a Thread or
// ThreadOptions (so copy/move of those never lands here).
template <class F, class... Args>
concept ThreadTarget =
    !std::is_base_of_v<Thread, std::remove_cvref_t<F>> &&
    !std::is_same_v<std::remove_cvref_t<F>, ThreadOptions> &&
    (std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...> ||
     kTakesStopToken<F, Args...>) &&
    std::is_constructible_v<std::decay_t<F>, F> &&
    (std::is_constructible_v<std::decay_t<Args>, Args> && ...);

}  // namespace detail

/// Thread: an activity run in a separate OS thread.          (Python: threading.Thread)
///
/// State: new -> started (alive) -> finished. start() launches the thread, which calls
/// run(); the default run() calls target(args...) once. A subclass may override run()
/// instead, as in Python.
///
///   state \ call | start()          | join()                 | set_daemon()
///   new          | -> alive         | RuntimeError           | sets the flag
///   alive        | RuntimeError     | blocks until finished  | RuntimeError
///   finished     | RuntimeError     | returns at once        | RuntimeError
///
/// Guarantees
///   Memory:  for any threads X and Y, everything X did before X calls start() is
///            visible to the new thread when run() begins; everything the thread did is
///            visible to Y once Y's join() returns (or join(timeout) returns true, or
///            is_alive() returns false).
///   start() returns once the thread runs: is_alive(), ident() and native_id() are set.
///   An exception escaping run() goes to the excepthook (see set_excepthook), never to
///   std::terminate; the process carries on. A CancelledError escaping run() after
///   request_stop() ends the thread quietly (the hook is not called).
/// Stopping (beyond Python; <weft/cancel.hpp>): run() runs inside a CancelScope of the
///   thread's own stop source, so request_stop() makes its blocking weft calls throw
///   CancelledError, also one already blocked. A target whose first parameter is a
///   std::stop_token receives the thread's token (std::jthread's convention).
/// Fairness: n/a. join() wakes every joiner when the thread finishes.
/// Blocking: start() blocks briefly until the thread is running; join() blocks until
///   the thread finishes; join(timeout) at most `timeout` (zero or negative: a check).
/// Cost:     one OS thread; a few allocations per Thread; join parks in the parking lot.
/// Lifetime: destroying a running non-daemon Thread joins it; a running daemon one is
///   detached (its thread keeps running and current_thread() there stays valid). A
///   subclass that overrides run() must join (or keep itself alive) before its own
///   members are destroyed: ~Thread runs after the subclass destructor. When main
///   returns or std::exit runs, weft joins every non-daemon thread still running and
///   abandons daemon threads (Python's shutdown).
///   All const members and join() may be called from any thread.
/// OS name:  a started thread carries its name as its OS thread name (Linux:
///   /proc/PID/task/TID/comm, shown by top -H, gdb, perf), cut to the kernel's 15
///   bytes (see set_name), from before start() returns until it finishes. set_name()
///   renames it from any thread. The main thread and threads weft did not start keep
///   their OS names unless set_name() is called on them.
/// Invalid:  start() twice, join() before start() or from the thread itself, and
///   set_daemon() after start() throw RuntimeError.
/// Not copyable or movable: the object is shared by reference with its running thread
///   (current_thread() returns it), as Python's Thread object is. Keep threads in a
///   std::deque or std::list (emplace_back constructs in place) or hold
///   std::unique_ptr<weft::Thread>; std::vector<weft::Thread> fails to compile with
///   a message saying so.
///
///   weft::Thread t([](int n) { work(n); }, 42);
///   t.start();
///   t.join();
class Thread {
 public:
  /// A thread whose run() does nothing unless a subclass overrides it.
  Thread();

  /// A thread that runs target(args...), or target(stop_token(), args...) if that is
  /// how target is called. target and args are decayed and moved in; move-only
  /// arguments work. Name "Thread-N"; daemon flag of the creating thread.
  template <class F, class... Args>
    requires detail::ThreadTarget<F, Args...>
  explicit Thread(F&& target, Args&&... args)
      : Thread(ThreadOptions{}, true,
               detail::make_thread_task(std::forward<F>(target), std::forward<Args>(args)...)) {}

  /// Same, with a name (empty: "Thread-N") and an explicit daemon flag.
  template <class F, class... Args>
    requires detail::ThreadTarget<F, Args...>
  Thread(ThreadOptions opts, F&& target, Args&&... args)
      : Thread(std::move(opts), false,
               detail::make_thread_task(std::forward<F>(target), std::forward<Args>(args)...)) {}

  /// Joins a running non-daemon thread (unless called on that thread); detaches a
  /// running daemon one. Never calls std::terminate.
  virtual ~Thread();

  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;

  // Copying or moving a Thread is a compile error that says why, rather than a
  // "use of deleted function" deep inside a container. These overloads win over the
  // deleted ones for non-const and rvalue arguments (so a std::vector<Thread> that
  // grows instantiates them) and their bodies fail with the message. The price:
  // std::is_move_constructible_v<Thread> is true, though no move ever compiles.
  template <class Other>
    requires std::is_base_of_v<Thread, std::remove_cvref_t<Other>>
  Thread(Other&&) {  // NOLINT(bugprone-forwarding-reference-overload)
    static_assert(detail::kThreadIsNotMovable<Other>, WEFT_THREAD_NOT_MOVABLE_MESSAGE);
  }
  template <class Other>
    requires std::is_base_of_v<Thread, std::remove_cvref_t<Other>>
  Thread& operator=(Other&&) {
    static_assert(detail::kThreadIsNotMovable<Other>, WEFT_THREAD_NOT_MOVABLE_MESSAGE);
    return *this;
  }

  /// The thread's activity: calls target(args...) once, then drops them. Override it.
  virtual void run();

  /// Starts the thread. Blocks until it is running.
  /// Throws: RuntimeError if already started ("threads can only be started once") or
  /// if the OS cannot create a thread.
  void start();

  /// Waits until the thread finishes.
  /// Throws: RuntimeError before start() or from the thread itself.
  void join(detail::SourceLoc loc = detail::SourceLoc::current()) {
    join_until(detail::kForever, loc);
  }

  /// Waits at most `timeout` (zero or negative: no wait). Returns: true if finished.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout,
            detail::SourceLoc loc = detail::SourceLoc::current()) {
    return join_until(detail::deadline_after(timeout), loc);
  }

  /// True from the moment start() returns until run() has returned.
  bool is_alive() const noexcept;

  std::string name() const;
  /// Renames the thread, and its OS thread while it runs (from any thread). The OS
  /// name is the name up to its first NUL byte, cut to 15 bytes at a UTF-8 character
  /// boundary; a trailing number group of up to 7 bytes is kept after a shorter head
  /// ("ThreadPoolExecutor-0_3" -> "ThreadPoolE-0_3"). Renaming the OS thread is best
  /// effort: if the OS refuses, name() still changes and nothing is thrown.
  void set_name(std::string name);

  bool daemon() const noexcept;
  /// Throws: RuntimeError once started ("cannot set daemon status of active thread").
  void set_daemon(bool daemonic);

  /// Requests stop on the thread's stop source (std::jthread::request_stop): the
  /// thread's current and later blocking weft calls throw CancelledError. Before
  /// start(), the thread starts stopped. Returns true if this call made the request.
  /// For the main thread and threads weft did not start, only stop_token() sees it
  /// (they run in no scope of their own). Never blocks; callable from any thread.
  bool request_stop() noexcept;
  /// The token of the thread's stop source (what a stop_token target receives).
  std::stop_token stop_token() const noexcept;

  /// get_ident() / get_native_id() of the thread; empty until started.
  std::optional<std::uint64_t> ident() const noexcept;
  std::optional<std::uint64_t> native_id() const noexcept;

 protected:
  // For Timer: the dynamic type whose run() is known to be the base one, so the new
  // thread can call the target without touching this object (safe after ~Thread).
  void set_run_not_overridden(const std::type_info& type) noexcept;

 private:
  friend struct ThreadAccess;
  struct AttachTag {};

  Thread(ThreadOptions opts, bool inherit_daemon, std::unique_ptr<detail::ThreadTask> task);
  Thread(AttachTag, detail::RecordRef state);  // main, dummy, orphan
  bool join_until(detail::Deadline deadline, detail::SourceLoc loc);

  detail::RecordRef state_;  // the thread's record, shared with its running thread
  const std::type_info* plain_type_ = &typeid(Thread);
  bool attached_ = false;  // an entry weft created for a thread it did not start
};

#undef WEFT_THREAD_NOT_MOVABLE_MESSAGE

/// The Thread of the calling thread; for a thread weft did not start, a daemon entry
/// named "Dummy-N" created on first use and dropped when that thread exits.
Thread& current_thread();
/// The Thread named "MainThread": the thread that ran weft's static initialisation.
Thread& main_thread();
/// How many threads are alive: the main thread, started weft threads, dummy entries.
std::size_t active_count();
/// Every alive thread (see active_count). The pointers stay valid while the threads
/// they describe are alive (and, for a weft thread, while its Thread object lives).
std::vector<Thread*> enumerate();
/// The calling thread's identifier (pthread_self()); may be reused after it exits.
std::uint64_t get_ident() noexcept;
/// The calling thread's kernel thread id (gettid()).
std::uint64_t get_native_id() noexcept;

/// What the excepthook receives.                       (Python: threading.ExceptHookArgs)
/// exc_type is the demangled type name ("unknown" for a non-std exception of unknown
/// type); what is what() for a std::exception, empty otherwise.
struct ExceptHookArgs {
  std::exception_ptr exc;
  std::string exc_type;
  std::string what;
  Thread* thread;
};

/// Sets the function called, on the failing thread, with every exception that escapes
/// a Thread's run(). An empty function restores the default, which prints
/// "Exception in thread NAME:" then "TYPE: WHAT" to stderr. An exception thrown by
/// the hook itself is reported the default way and swallowed.
void set_excepthook(std::function<void(const ExceptHookArgs&)> hook);

}  // namespace weft
