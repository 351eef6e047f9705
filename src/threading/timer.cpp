// SPDX-License-Identifier: Apache-2.0
// Timer's wait: a timed park on the shared word, woken at once by cancel().
//
//   (M1) cancel(): CAS waiting -> cancelled, then unpark_all. The timer thread's
//        validate() reads the word under the bucket lock, so it cannot sleep past it.
//   (M2) the timer thread claims the firing with CAS waiting -> fired once the deadline
//        passed; exactly one of (M1) and (M2) succeeds.
//   (M3) an interrupted wait (the timer thread's request_stop, a scope) cancels the timer
//        as (M1) does, then throws: the function never runs.
#include "weft/timer.hpp"

#include "weft/detail/parking_lot.hpp"

namespace weft::detail {
namespace {
constexpr std::uint32_t kWaiting = 0, kCancelled = 1, kFired = 2;
}

bool timer_wait(TimerState& st, Deadline deadline, const void* timer) {
  const WaitSite site{timer, ObjKind::timer, {}};
  for (;;) {
    std::uint32_t word = st.word.load(std::memory_order_acquire);
    if (word == kCancelled) return false;
    if (Clock::now() >= deadline) {
      std::uint32_t expected = kWaiting;
      return st.word.compare_exchange_strong(expected, kFired,  // (M2)
                                             std::memory_order_acq_rel);
    }
    const ParkResult r = park(
        &st.word, [&] { return st.word.load(std::memory_order_relaxed) == kWaiting; }, deadline,
        site);
    if (r.status == ParkStatus::kInterrupted) {  // (M3)
      std::uint32_t expected = kWaiting;
      st.word.compare_exchange_strong(expected, kCancelled, std::memory_order_acq_rel);
      throw_interruption();
    }
  }
}

void cancel_timer(TimerState& st) noexcept {
  std::uint32_t expected = kWaiting;
  if (st.word.compare_exchange_strong(expected, kCancelled, std::memory_order_acq_rel))  // (M1)
    unpark_all(&st.word);
}

}  // namespace weft::detail
