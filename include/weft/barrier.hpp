// SPDX-License-Identifier: Apache-2.0
// weft/barrier.hpp: Barrier, a cyclic rendezvous of a fixed number of threads.
//                                                              (Python: threading.Barrier)
// Part of <weft/threading.hpp>. CPython's state machine (filling, draining, resetting,
// broken) over a small internal lock and the parking lot. Slow paths:
// src/threading/barrier.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/function_ref.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/lock_algorithm.hpp"
#include "weft/detail/thread_safety.hpp"
#include "weft/errors.hpp"

namespace weft {

/// Barrier: `parties` threads each call wait(); all block until the last one arrives,
/// then all continue together, and the barrier is ready for the next round.
///                                                              (Python: threading.Barrier)
///
/// State:
///   state \ event | last party arrives       | abort() / timeout / action throws | reset()
///   filling       | action, then draining    | broken                            | resetting*
///   draining      | (waiters leave; at 0: filling)                                |
///   broken        | wait() throws at once    | broken                            | resetting* / filling
///   (*resetting: the threads still waiting get BrokenBarrierError; once they left, filling)
///
/// Guarantees
///   Memory:   for any threads X and Y of one round, everything X did before its wait()
///             is visible to Y once Y's wait() of that round returns, and the action's
///             effects are visible to every party of its round.
///   Each round's wait() calls return the distinct indices 0..parties-1 (arrival order).
///   The action runs once per round, in the last thread to arrive, before any party of
///   the round is released. If it throws, that thread's wait() rethrows it, the barrier
///   breaks and the other parties get BrokenBarrierError. Once a round completed, its
///   parties return normally even if the barrier is aborted before they wake.
/// Fairness: n/a: a round releases all its parties at once. A thread arriving while a
///   round drains waits for the next round.
/// Blocking: wait() blocks until the round completes, the barrier breaks, or the
///   timeout (wait(timeout), else the constructor's, else none) expires; a timeout
///   breaks the barrier, as in Python (zero or negative: breaks it unless the caller is
///   the last party). reset() and abort() block only while an action runs in another
///   thread. parties(), n_waiting(), broken() never block for long.
/// Cost:     wait() takes an internal lock and parks; the last arrival wakes the round
///           with one parking-lot call. sizeof(Barrier) == 96.
/// Lifetime: may be destroyed once no thread is inside a member. All members may be
///           called concurrently; the action may call abort(), reset() and the getters
///           (abort/reset from the action break the round it completes).
/// Invalid:  Barrier(0), a negative count and a NaN timeout throw ValueError. wait() on a broken barrier throws
///           BrokenBarrierError until reset().
///
///   weft::Barrier phase(3, [] { std::puts("round done"); });
///   std::vector<std::thread> team;
///   for (int i = 0; i < 3; ++i) team.emplace_back([&] { phase.wait(); phase.wait(); });
///   for (auto& t : team) t.join();                    // prints "round done" twice
class Barrier {
 public:
  explicit Barrier(std::size_t parties, std::function<void()> action = {},
                   std::optional<detail::Clock::duration> timeout = std::nullopt,
                   std::string_view name = {});
  // A signed count (literals such as Barrier(3)): ValueError if it is below 1.
  template <std::signed_integral Int, class... Rest>
  explicit Barrier(Int parties, Rest&&... rest)
      : Barrier(detail::non_negative_count(parties, "Barrier parties"),
                std::forward<Rest>(rest)...) {}
  // Any duration (converted with saturation, see detail/deadline.hpp: beyond
  // steady_clock's range or +infinity means "no timeout"; NaN throws ValueError).
  template <class Rep, class Period>
  Barrier(std::size_t parties, std::function<void()> action,
          std::chrono::duration<Rep, Period> timeout, std::string_view name = {})
      : Barrier(parties, std::move(action), default_timeout(timeout), name) {}
  template <class Rep, class Period>
  Barrier(std::size_t parties, std::function<void()> action,
          std::optional<std::chrono::duration<Rep, Period>> timeout, std::string_view name = {})
      : Barrier(parties, std::move(action),
                timeout ? default_timeout(*timeout) : std::optional<detail::Clock::duration>{},
                name) {}
  ~Barrier();
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  /// Waits for the round to complete, for at most the constructor's timeout, if any.
  /// Returns: this thread's index in the round, 0..parties-1.
  /// Throws: BrokenBarrierError if the barrier is or becomes broken, is reset, or the
  /// timeout expires; whatever the action throws, in the thread that ran it.
  std::size_t wait(detail::SourceLoc loc = detail::SourceLoc::current()) {
    return wait_until(detail::deadline_from(timeout_), loc);
  }

  /// As wait(), for at most `timeout` (zero or negative: no wait, see Blocking).
  template <class Rep, class Period>
  std::size_t wait(std::chrono::duration<Rep, Period> timeout,
                   detail::SourceLoc loc = detail::SourceLoc::current()) {
    return wait_until(detail::deadline_after(timeout), loc);
  }

  /// Puts the barrier back to its initial state; threads waiting now get
  /// BrokenBarrierError. A broken barrier becomes usable again.
  void reset();
  /// Breaks the barrier: current and future wait() calls throw BrokenBarrierError
  /// until reset().
  void abort();

  std::size_t parties() const noexcept { return parties_; }
  /// The number of threads waiting in the current round (a snapshot).
  std::size_t n_waiting() const;
  /// True if the barrier is broken (a snapshot).
  bool broken() const;

  /// Names the barrier in debug reports and traces (not concurrent with other members).
  void set_name(std::string_view name);

 private:
  enum State : std::uint8_t { kFilling, kAction, kDraining, kResetting, kBroken };
  // The internal lock: weft's lock algorithm on one byte, without debug hooks (it is
  // never held while user code runs, so it is no lock-order edge).
  struct WEFT_CAPABILITY("mutex") StateLock {
    detail::ByteLockAlgorithm::Atomic word{0};
  };
  struct StateLockHooks;  // barrier.cpp
  // The constructor's timeout: nullopt (none) when it is beyond steady_clock's range.
  template <class Rep, class Period>
  static std::optional<detail::Clock::duration> default_timeout(
      std::chrono::duration<Rep, Period> timeout) {
    const detail::Clock::duration d = detail::to_clock_duration(timeout);
    if (d == detail::Clock::duration::max()) return std::nullopt;
    return d;
  }

  std::size_t wait_until(detail::Deadline deadline, detail::SourceLoc loc) WEFT_EXCLUDES(mu_);
  void release_round(detail::SourceLoc loc) WEFT_REQUIRES(mu_);
  void wait_round(std::uint64_t round, detail::Deadline deadline, detail::SourceLoc loc)
      WEFT_REQUIRES(mu_);
  void leave() WEFT_REQUIRES(mu_);
  // Locks mu_ once no action runs on another thread (B2). Throws what the wait throws
  // (an interrupt), with mu_ released.
  void lock_state_outside_action(detail::SourceLoc loc) WEFT_ACQUIRE(mu_);
  // Waits, with mu_ held and released while parked (B1), until settled() holds; false if
  // the deadline passed first. An interrupt throws unless completed() holds (B4); mu_ is
  // held again either way. Releases mu_ in a callback the analysis cannot follow.
  bool wait_change(detail::FunctionRef<bool()> settled, detail::FunctionRef<bool()> completed,
                   detail::Deadline deadline, detail::SourceLoc loc) WEFT_REQUIRES(mu_)
      WEFT_NO_THREAD_SAFETY_ANALYSIS;
  void notify_change() WEFT_REQUIRES(mu_);
  void break_barrier() WEFT_REQUIRES(mu_);
  // The internal lock's own operations (on a lock word the analysis cannot follow).
  void lock_state(detail::SourceLoc loc) const WEFT_ACQUIRE(mu_) WEFT_NO_THREAD_SAFETY_ANALYSIS;
  void unlock_state() const WEFT_RELEASE(mu_) WEFT_NO_THREAD_SAFETY_ANALYSIS;

  const std::size_t parties_;
  const std::function<void()> action_;
  const std::optional<detail::Clock::duration> timeout_;
  mutable StateLock mu_;  // internal lock over the fields below
  State state_ WEFT_GUARDED_BY(mu_) = kFilling;
  std::size_t count_ WEFT_GUARDED_BY(mu_) = 0;            // threads inside wait() for this round
  std::uint64_t action_thread_ WEFT_GUARDED_BY(mu_) = 0;  // ident of the thread running the action
  std::uint64_t round_ WEFT_GUARDED_BY(mu_) = 0;          // rounds completed
  std::uint8_t flags_ = 0;                                // 1: named
};

}  // namespace weft
