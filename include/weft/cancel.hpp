// SPDX-License-Identifier: Apache-2.0
// weft/cancel.hpp: cancelling and interrupting blocking calls: Ctrl-C as KeyboardInterrupt,
// CancelScope over a std::stop_token, Timeout scopes, and an interruptible sleep.
// (beyond Python's threading: Python's KeyboardInterrupt and time.sleep, trio's CancelScope,
// asyncio.timeout(); Thread::request_stop and Future::request_stop are in their headers)
//
// Blocking calls: every weft call that can block (Lock / RLock / Semaphore acquire,
// Condition wait, Event::wait, Barrier::wait, the queues' get / put / join and their batch
// forms, select, Thread::join, Future result / exception, wait, as_completed and map
// iteration, weft::sleep) honours, on the thread that makes it:
//   - a live CancelScope whose token was stopped (also the scope every weft::Thread and
//     every executor task runs in, see request_stop): throws CancelledError;
//   - a live Timeout whose deadline passed: throws TimeoutError, whatever the call's own
//     timeout (a call whose own timeout ends first behaves as without the scope);
//   - a Ctrl-C after install_keyboard_interrupt(), in the main thread only: throws
//     KeyboardInterrupt and consumes the signal.
// A call already blocked when the stop comes wakes promptly (the parking lot wakes that one
// thread; no polling). A call that can complete without blocking completes. Objects stay
// consistent: a cancelled acquire holds nothing, a cancelled Condition::wait returns with
// its lock held again, a cancelled get takes no item and a cancelled put inserts none, a
// cancelled Barrier::wait withdraws its party without breaking the barrier.
// Cost: with no scope, no request and no signal, a blocking call pays one load more, and
// only when it is about to park.
#pragma once

#include <chrono>
#include <optional>
#include <stop_token>

#include "weft/detail/deadline.hpp"
#include "weft/errors.hpp"

namespace weft {

namespace detail {

struct ThreadRecord;  // a thread's record (the parking lot's ThreadData)
using ThreadData = ThreadRecord;

// Parks the calling thread until `deadline` (weft::clock: virtual inside a testing
// bubble). Throws what an interrupt means (see the top of this file).
void sleep_until(Deadline deadline);

// A link of the calling thread's chain of live stop scopes (CancelScope, the scope of a
// running Thread or executor task). The thread's kInterruptStop reason is set while some
// link of the chain is stopped: whoever stops a link sets it (interrupting the thread),
// and once a link is unlinked and nobody can stop it any more, its owner calls
// restore_stop_reason(), which clears the reason unless an enclosing link is stopped.
// Created and destroyed on one thread, innermost first.
class StopScopeLink {
 public:
  StopScopeLink(const StopScopeLink&) = delete;
  StopScopeLink& operator=(const StopScopeLink&) = delete;
  // True once this link's stop was requested (may be called from any thread).
  virtual bool stop_requested() const noexcept = 0;
  // The enclosing link (nullptr: none).
  const StopScopeLink* outer() const noexcept { return outer_; }

 protected:
  StopScopeLink() noexcept;  // becomes the innermost link of the calling thread
  ~StopScopeLink();          // unlink() if not done yet
  void unlink() noexcept;    // stops being a link (must be the innermost one)

 private:
  StopScopeLink* outer_;
  bool linked_ = true;
};

// Makes the calling thread's kInterruptStop say whether a live link of its chain is
// stopped. Call after a link ended and nobody can stop it any more.
void restore_stop_reason() noexcept;

}  // namespace detail

/// Makes SIGINT (Ctrl-C) throw KeyboardInterrupt from the main thread's current or next
/// blocking weft call, or from check_interrupt(), as Python does by default. Idempotent.
/// The environment variable WEFT_SIGINT=raise does the same at start-up. While weft joins
/// the non-daemon threads at exit, a Ctrl-C ends the process with status 130 instead.
/// The handler only sets a flag and wakes the main thread (async-signal-safe).
/// A KeyboardInterrupt that escapes main() ends the process killed by SIGINT (a shell
/// reports status 130), as Python does, not by abort(): weft's std::terminate handler
/// raises SIGINT with its default action; other terminates reach the previous handler.
/// Throws: RuntimeError if the handler cannot be installed.
void install_keyboard_interrupt();

/// Throws KeyboardInterrupt (consuming it) if a Ctrl-C is pending for the calling thread
/// (only the main thread ever has one). For loops that do not block in weft.
void check_interrupt();

/// time.sleep: blocks the calling thread for `d` (zero or negative: returns at once).
/// Measured on weft::clock, so inside weft::testing::run it takes no real time.
/// Throws: CancelledError / TimeoutError / KeyboardInterrupt as any blocking call (see the
/// top of this file); ValueError for a NaN duration.
template <class Rep, class Period>
void sleep(std::chrono::duration<Rep, Period> d) {
  detail::sleep_until(detail::deadline_after(d));
}

/// CancelScope: cancels the blocking calls of the constructing thread while it lives, once
/// stop is requested on `token`.                                   (trio.CancelScope)
///
///   std::stop_source stop;             // another thread calls stop.request_stop()
///   try {
///     weft::CancelScope scope(stop.get_token());
///     for (;;) handle(jobs.get());     // throws CancelledError once stop is requested
///   } catch (const weft::CancelledError&) {}
///
/// Scopes nest: a call is cancelled if any live scope of its thread is stopped. A stopped
/// scope stays stopped: every later blocking call inside it throws too. Must be destroyed
/// on the thread that created it (it is neither copyable nor movable).
class CancelScope final : private detail::StopScopeLink {
 public:
  explicit CancelScope(std::stop_token token);
  ~CancelScope();

  /// True once stop was requested on the token.
  bool cancel_called() const noexcept { return token_.stop_requested(); }

 private:
  bool stop_requested() const noexcept override { return token_.stop_requested(); }

  struct Interrupt {
    detail::ThreadData* owner;
    void operator()() const noexcept;
  };

  std::stop_token token_;
  std::optional<std::stop_callback<Interrupt>> callback_;
};

/// Timeout: one deadline for every blocking call of the constructing thread while it
/// lives.                                                           (asyncio.timeout())
///
///   weft::Timeout budget(std::chrono::seconds(5));
///   auto a = q.get();  auto b = fut.result();   // together at most about 5 s
///
/// A blocking call throws TimeoutError once the deadline passes. Scopes nest: the earliest
/// deadline of the live scopes applies. Measured on weft::clock (virtual inside
/// weft::testing::run). Must be destroyed on the thread that created it.
/// Throws: ValueError for a NaN duration.
class Timeout {
 public:
  template <class Rep, class Period>
  explicit Timeout(std::chrono::duration<Rep, Period> d) : Timeout(detail::deadline_after(d)) {}
  ~Timeout();
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;

  /// True once the deadline has passed.
  bool expired() const noexcept;

 private:
  explicit Timeout(detail::Deadline deadline) noexcept;

  detail::Deadline deadline_;
  detail::Deadline enclosing_;  // the thread's scope deadline before this scope
};

}  // namespace weft
