// SPDX-License-Identifier: Apache-2.0
// Event slow paths.
//   (E1) set(): its acq_rel RMW that sets kSet publishes the setter's writes; pairs with (E2)
//        (the acquire load in is_set()/wait()) and with (E5).
//   (E3) a waiter sets kWaiters before parking and park() validates, under the bucket
//        lock, that the state is exactly kWaiters plus the generation it announced in
//        (flag clear, bit still set, no set() since), and parks with that generation as
//        its park token. set() reads kWaiters in the same RMW as (E1), so a waiter that
//        validated before (E1) is on the queue when wake_all() runs, and one that
//        validates after sees kSet or a new generation.
//   (E4) a set() that finds kWaiters clears it and advances the generation in that same
//        RMW, then wake_all() unparks the threads parked with the old generation, token
//        kWoken: a woken waiter returns true whatever the flag is by then (issue 13502).
//        A waiter that parks after the flag was cleared again belongs to the new
//        generation, so the earlier set() cannot wake it, however late it gets there
//        (short of 2^29 later sets with waiters: the generation then wraps).
//   (E7) an interrupted waiter has left the queue (clearing kWaiters if it was the last)
//        and throws; set() wakes every waiter, so no other waiter misses anything.
//   (E5) the parking lot orders the unparker's writes before the woken thread's return.
//   (E6) kSelect: a weft::select watches this event; set() then calls wake_all(), which
//        notifies it through detail::g_event_select_hook (protocol (V1)/(V2) in
//        weft/detail/select_events.hpp; the hook keeps L2 free of L3 includes).
#include "weft/event.hpp"

#include "threading/event_testing.hpp"
#include "threading/wait_loop.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft {
namespace detail {
std::atomic<EventSelectHook> g_event_select_hook{nullptr};
std::atomic<EventWakeWindowHook> g_event_wake_window_hook_for_tests{nullptr};
}

namespace {
constexpr detail::ParkToken kWoken = 1;
}

Event::Event(std::string_view name) {
  if (!name.empty()) set_name(name);
}

Event::~Event() { detail::hooks::forget_object(this, flags_); }

void Event::set_name(std::string_view name) {
  detail::hooks::name_object(this, detail::ObjKind::event, name, flags_);
}

bool Event::wait_slow(detail::Deadline deadline, detail::SourceLoc loc) {
  // (E3) announce that we are about to park, in `generation`; false if the flag was set
  // meanwhile.
  detail::ParkToken generation = 0;
  auto announce = [&] {
    std::uint32_t state = state_.load(std::memory_order_relaxed);
    if ((state & kSet) != 0) return false;
    if ((state & kWaiters) == 0 &&
        !state_.compare_exchange_weak(state, state | kWaiters, std::memory_order_relaxed,
                                      std::memory_order_relaxed)) {
      return false;
    }
    generation = generation_of(state);
    return true;
  };
  return detail::wait_loop(
      [&] { return is_set(); }, announce, [] { return false; },  // (E2)
      detail::WaitPark{
          &state_,
          [&] {
            return (state_.load(std::memory_order_relaxed) & ~kSelect) == (kWaiters | generation);
          },
          [] {},
          [&](const void*, bool was_last) {
            if (was_last) state_.fetch_and(~kWaiters, std::memory_order_relaxed);
          },
          [] {}, deadline, detail::WaitSite{this, detail::ObjKind::event, loc},
          kWoken, /*spin=*/true, &generation});  // (E4)
}

void Event::wake_all(std::uint32_t old_state) {
  if (const auto seam = detail::g_event_wake_window_hook_for_tests.load(std::memory_order_acquire))
    seam(this);
  if ((old_state & kSelect) != 0) state_.fetch_and(~kSelect, std::memory_order_relaxed);
  if ((old_state & (kSet | kWaiters)) == kWaiters) {  // (E4) this set() took the waiters
    detail::unpark_all_parked_with(&state_, generation_of(old_state), kWoken);
  }
  // (E6) the hook was stored before kSelect was first set, and (E1) read that bit.
  if (const auto hook = detail::g_event_select_hook.load(std::memory_order_acquire)) hook(this);
}

}  // namespace weft
