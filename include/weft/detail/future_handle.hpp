// SPDX-License-Identifier: Apache-2.0
// weft/detail/future_handle.hpp: Future<R>, the public handle to one asynchronous
// result, and std::hash<Future<R>>. Part of <weft/futures.hpp>; include that.
//
// Contract: Future<R> adds no state of its own: it is one counted reference to a
// detail::FutureState<R> (weft/detail/future_state.hpp), which holds the phase, the
// result and the callbacks. adopt_future() and future_state() are the only ways in and
// out of a handle for the rest of the library (executors, wait, as_completed).
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <exception>
#include <functional>
#include <utility>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/future_state.hpp"
#include "weft/errors.hpp"

namespace weft {

template <class R>
class Future;

namespace detail {
template <class R>
Future<R> adopt_future(FutureState<R>* s) noexcept;  // takes over one reference
template <class R>
FutureState<R>* future_state(const Future<R>& f) noexcept;
}  // namespace detail

/// Future<R>: a copyable handle to the result of one asynchronous call.
///                                                 (Python: concurrent.futures.Future)
///
/// State: pending -> running -> finished (a value or an exception), or
/// pending -> cancelled. done() is true when finished or cancelled.
///
///   state \ call | cancel()              | result()
///   pending      | -> cancelled, true    | blocks
///   running      | false                 | blocks
///   finished     | false                 | the value, or rethrows the task's exception
///   cancelled    | true                  | CancelledError
///
/// Guarantees
///   Memory:  for any threads X and Y, everything the task did (on X) before it
///            finished is visible to Y once Y's done() returns true or Y's result() /
///            exception() returns.
///   Each done callback runs exactly once, in registration order, on the thread that
///   completed the future, or at once on the adding thread if it is already done.
///   Exactly one of "the task ran" and "cancel() returned true" happens.
/// Fairness: n/a: completion wakes every waiter.
/// Blocking: result() and exception() block until done; the timed forms wait at least
///   the timeout, then throw TimeoutError (zero or negative: check once). On a worker of
///   the ThreadPoolExecutor that runs the task, result() never runs other tasks on the
///   waiting thread (so never under the locks the waiter holds): the waiter lends its
///   place to a spare thread, so tasks that wait for tasks of the same pool cannot
///   starve it (Python documents a deadlock there). See ThreadPoolExecutor.
/// Cost:     done(), cancelled(), running() are one acquire load; completion with no
///           waiter and no callback is one atomic RMW and no system call.
/// Lifetime: handles may outlive the executor; the state is freed with the last
///           handle. All members may be called concurrently.
/// Identity: copies of a handle are the same future. ==, <=> and std::hash compare
///           the shared state (as Python hashes a future by identity), so a Future is
///           a key of std::unordered_map, std::map and the sets. The order is
///           arbitrary (by address), not submission or completion order.
/// Invalid:  set_result()/set_exception() on a done future throw RuntimeError (Python:
///           InvalidStateError). A default-constructed Future is a fresh pending
///           future (Python's Future()); moved-from handles may only be assigned to.
///
///   weft::ThreadPoolExecutor pool(4);
///   weft::Future<int> f = pool.submit([](int x) { return x * x; }, 7);
///   f.add_done_callback([](weft::Future<int> g) { std::printf("%d\n", g.result()); });
///   int v = f.result();                       // 49
template <class R>
class Future {
 public:
  /// A new pending future, completed with set_result / set_exception.
  Future() : s_(new detail::FutureState<R>()) {}
  Future(const Future& o) noexcept : s_(o.s_) {
    if (s_ != nullptr) s_->add_ref();
  }
  Future(Future&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Future& operator=(Future o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Future() {
    if (s_ != nullptr) s_->release();
  }

  /// Waits for the result. Throws: the task's exception (same type); CancelledError.
  R result(detail::SourceLoc loc = detail::SourceLoc::current()) {
    s_->wait_until(detail::kForever, loc);
    s_->check_result();
    return s_->get();
  }
  /// Waits at most `timeout`. Throws: TimeoutError when still not done.
  template <class Rep, class Period>
  R result(std::chrono::duration<Rep, Period> timeout,
           detail::SourceLoc loc = detail::SourceLoc::current()) {
    if (!s_->wait_until(detail::deadline_after(timeout), loc)) throw TimeoutError("future timed out");
    s_->check_result();
    return s_->get();
  }

  /// The task's exception, or null if it returned normally. Throws: CancelledError.
  std::exception_ptr exception(detail::SourceLoc loc = detail::SourceLoc::current()) {
    s_->wait_until(detail::kForever, loc);
    return checked_exception();
  }
  template <class Rep, class Period>
  std::exception_ptr exception(std::chrono::duration<Rep, Period> timeout,
                               detail::SourceLoc loc = detail::SourceLoc::current()) {
    if (!s_->wait_until(detail::deadline_after(timeout), loc)) throw TimeoutError("future timed out");
    return checked_exception();
  }

  /// Cancels a pending future. Returns: true if it is (now or already) cancelled,
  /// false if it is running or finished. Wakes: waiters; runs the callbacks.
  bool cancel() { return s_->cancel(); }
  /// Beyond Python: stops a running task of a ThreadPoolExecutor as Thread::request_stop
  /// stops a thread: the task's blocking weft calls throw CancelledError, also one already
  /// blocked, and a task whose first parameter is a std::stop_token sees stop requested.
  /// The future then holds what the task ended with (a CancelledError that escapes the
  /// task makes result() throw it). A task not started yet starts stopped (cancel()
  /// removes it instead). Returns: false if the future is already done.
  bool request_stop() noexcept { return s_->request_stop(); }
  bool cancelled() const noexcept { return s_->phase() == detail::FutureStateBase::kCancelled; }
  bool running() const noexcept { return s_->phase() == detail::FutureStateBase::kRunning; }
  bool done() const noexcept { return s_->done(); }

  /// Calls fn(*this) once the future is done (at once, on this thread, if it is).
  /// An exception fn throws is reported on stderr; the other callbacks still run.
  void add_done_callback(std::function<void(Future<R>)> fn) {
    s_->add_callback([fn = std::move(fn)](detail::FutureStateBase* s) {
      s->add_ref();
      fn(detail::adopt_future(static_cast<detail::FutureState<R>*>(s)));
    });
  }

  // For executors and tests (Python keeps these for Executor implementers).
  /// pending -> running; false (and nothing changes) if it was cancelled.
  /// Throws RuntimeError if it is already running or done.
  bool set_running_or_notify_cancel() {
    if (s_->try_claim()) return true;
    if (cancelled()) return false;
    throw RuntimeError("Future in unexpected state");
  }
  /// Finishes with a value. Throws RuntimeError if already done.
  template <class... A>
  void set_result(A&&... value) {
    claim_for_set();
    try {
      s_->set_value(std::forward<A>(value)...);
    } catch (...) {
      s_->finish_with(std::current_exception());
      throw;
    }
    s_->finish();
  }
  /// Finishes with an exception. Throws RuntimeError if already done.
  void set_exception(std::exception_ptr e) {
    claim_for_set();
    s_->finish_with(std::move(e));
  }

  /// Identity: true when both handles refer to the same future.
  friend bool operator==(const Future& a, const Future& b) noexcept { return a.s_ == b.s_; }
  /// A strict total order on futures by identity (arbitrary but stable while they live).
  friend std::strong_ordering operator<=>(const Future& a, const Future& b) noexcept {
    return std::compare_three_way{}(a.s_, b.s_);
  }

 private:
  template <class T>
  friend Future<T> detail::adopt_future(detail::FutureState<T>*) noexcept;
  template <class T>
  friend detail::FutureState<T>* detail::future_state(const Future<T>&) noexcept;
  struct Adopt {};
  Future(Adopt, detail::FutureState<R>* s) noexcept : s_(s) {}

  void claim_for_set() {
    if (s_->try_claim()) return;
    if (s_->phase() == detail::FutureStateBase::kRunning) return;  // set by its runner
    throw RuntimeError("InvalidStateError: future is already done");
  }
  std::exception_ptr checked_exception() const {
    if (cancelled()) throw CancelledError("future was cancelled");
    return s_->stored_exception();
  }

  detail::FutureState<R>* s_;
};

namespace detail {
template <class R>
Future<R> adopt_future(FutureState<R>* s) noexcept {
  return Future<R>(typename Future<R>::Adopt{}, s);
}
template <class R>
FutureState<R>* future_state(const Future<R>& f) noexcept {
  return f.s_;
}
}  // namespace detail

}  // namespace weft

/// Future<R> hashes by identity (its shared state), consistent with ==.
template <class R>
struct std::hash<weft::Future<R>> {
  std::size_t operator()(const weft::Future<R>& f) const noexcept {
    return std::hash<const void*>{}(weft::detail::future_state(f));
  }
};
