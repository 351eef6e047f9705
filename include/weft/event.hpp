// SPDX-License-Identifier: Apache-2.0
// weft/event.hpp: Event, a flag threads can wait on.             (Python: threading.Event)
//
// Part of <weft/threading.hpp>. One state word (flag + "waiters may be parked" bit); the
// waiters queue in the parking lot. Slow paths: src/threading/event.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/hooks.hpp"

namespace weft {
namespace detail {
struct SelectAccess;

// How L3's weft::select learns that an Event it watches was set, without L2 depending
// on L3: select stores its notifier here before it first sets an Event's kSelect bit
// (see detail/select_events.hpp); Event::wake_all() calls it when it is set.
using EventSelectHook = void (*)(const void* event) noexcept;
extern std::atomic<EventSelectHook> g_event_select_hook;
}  // namespace detail

/// Event: a flag that threads can wait to become true.           (Python: threading.Event)
///
/// State: `flag`, initially false. set() makes it true and wakes every waiter; clear()
/// makes it false; wait() blocks while it is false.
///
/// Guarantees
///   Memory:  for any threads X and Y, everything X did before X calls set() is visible
///            to Y once Y's wait() returns true or Y's is_set() returns true.
///   A thread already blocked in wait() when set() runs returns true even if clear()
///   follows at once (CPython issue 13502): no lost wake-up. A wait() that starts while a
///   set() is still waking threads returns true if it finds the flag set; once clear() has
///   run, that set() cannot end it.
///   wait() returns false only when its timeout expired with the flag false.
/// Fairness: n/a: set() releases every waiter at once.
/// Blocking: only wait() blocks. wait(0s), wait(negative) and a flag already true return
///   at once.
/// Cost:     is_set() is one acquire load; set() with no waiter is one atomic RMW and no
///           system call; wait() on a set flag is one load. sizeof(Event) == 8.
/// Lifetime: may be destroyed by any thread once no thread is inside a member (a set()
///           that wakes waiters is still inside until it returns). All members may be
///           called concurrently.
/// Invalid:  n/a: every call sequence is valid.
///
///   weft::Event ready;  std::string config;
///   std::thread loader([&] { config = "loaded"; ready.set(); });
///   if (!ready.wait(std::chrono::seconds(10))) throw std::runtime_error("no config");
///   loader.join();
class Event {
 public:
  explicit Event(std::string_view name = {});
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  /// True if the flag is set. Memory: acquire, pairs with set().
  bool is_set() const noexcept { return (state_.load(std::memory_order_acquire) & kSet) != 0; }

  /// Sets the flag. Wakes: every thread blocked in wait().
  void set() {
    // (E1) release: publishes what the setter did. Pairs with (E2). The same RMW takes
    // the waiters it will wake (E4).
    std::uint32_t old = state_.load(std::memory_order_relaxed);
    while (!state_.compare_exchange_weak(old, state_after_set(old), std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
    }
    if (WEFT_UNLIKELY((old & (kWaiters | kSelect)) != 0)) wake_all(old);
  }

  /// Clears the flag; later wait() calls block until the next set().
  void clear() noexcept { state_.fetch_and(~kSet, std::memory_order_relaxed); }

  /// Blocks until the flag is set. Returns: true.
  bool wait(detail::SourceLoc loc = detail::SourceLoc::current()) {
    if (WEFT_LIKELY(is_set())) return true;  // (E2)
    return wait_slow(detail::kForever, loc);
  }

  /// Blocks until the flag is set or `timeout` passed (zero or negative: no wait; the
  /// conversion saturates, see detail/deadline.hpp).
  /// Returns: the flag (true if set, or set while this thread was waiting).
  /// Throws: ValueError for a NaN timeout.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout,
            detail::SourceLoc loc = detail::SourceLoc::current()) {
    detail::check_timeout(timeout);
    if (WEFT_LIKELY(is_set())) return true;  // (E2)
    const detail::Deadline deadline = detail::deadline_after(timeout);
    if (deadline == detail::kImmediate) return false;
    return wait_slow(deadline, loc);
  }

  /// Names the event in debug reports and traces (not concurrent with other members).
  void set_name(std::string_view name);

 private:
  static constexpr std::uint32_t kSet = 1;      // the flag
  static constexpr std::uint32_t kWaiters = 2;  // threads may be parked on &state_
  static constexpr std::uint32_t kSelect = 4;   // a weft::select may watch this event
  // The bits above: the waiters' generation, which a set() that finds waiters advances (E4).
  static constexpr std::uint32_t kGeneration = 8;
  friend struct detail::SelectAccess;           // sets kSelect (see detail/select_events.hpp)

  // The state a set() leaves: the flag set; if there were waiters, kWaiters cleared and
  // the next generation started (the waiters of `old`'s generation are this set's).
  static constexpr std::uint32_t state_after_set(std::uint32_t old) noexcept {
    if ((old & kSet) != 0 || (old & kWaiters) == 0) return old | kSet;
    return ((old | kSet) & ~kWaiters) + kGeneration;
  }
  // The generation bits of a state (E3): a waiter's park token.
  static constexpr std::uint32_t generation_of(std::uint32_t state) noexcept {
    return state & ~(kSet | kWaiters | kSelect);
  }
  WEFT_NOINLINE bool wait_slow(detail::Deadline deadline, detail::SourceLoc loc);
  WEFT_NOINLINE void wake_all(std::uint32_t old_state);

  std::atomic<std::uint32_t> state_{0};
  std::uint8_t flags_ = 0;  // 1: named
};

}  // namespace weft
