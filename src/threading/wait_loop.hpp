// SPDX-License-Identifier: Apache-2.0
// src/threading/wait_loop.hpp: the one wait loop of Event, Semaphore and Barrier (private to
// src/threading): try, spin, announce, park, and what each way a park ends means, including
// an interrupt (#13).
#pragma once

#include "weft/detail/backoff.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::detail {

// A token no unparker gives: for a wait that no single wake-up ends.
inline constexpr ParkToken kNoDoneToken = ~ParkToken{0};

// What a wait loop parks on, and how (see park()).
struct WaitPark {
  const void* key;
  FunctionRef<bool()> validate;                     // under the bucket lock: still waiting
  FunctionRef<void()> before_sleep;                 // queued, no lock held
  FunctionRef<void(const void*, bool)> timed_out;   // left the queue without a wake-up
  FunctionRef<void()> after_park;                   // after every park, however it ended
  Deadline deadline;
  WaitSite site;
  ParkToken done_token = kNoDoneToken;  // a wake-up with it ends the wait (no re-check)
  bool spin = true;                     // spin (Backoff) before each park
  // If not null: read at each park, the park token this waiter parks with (see
  // unpark_all_parked_with); announce() may change it.
  const ParkToken* park_token = nullptr;
};

// Waits until ready() holds.
//   ready():       tries to end the wait (takes a permit, sees a flag); true ends it.
//   announce():    right before each park (sets a "waiters" bit); false: retry.
//   completed():   after an interrupted park (the waiter has left, as after a timeout):
//                  true if the wait completed anyway (a round it belongs to finished).
// Returns: true once ready() or completed() held or a wake-up carried park.done_token;
//   false once the deadline passed (after one last ready(): a wake-up may have come as
//   the deadline passed). A deadline of kImmediate never parks.
// Throws: what an interrupt means (throw_interruption()), after timed_out and after_park
//   ran. A wake-up chosen for this waiter before the interrupt is never lost: the park
//   then returns kUnparked and the loop goes on with it.
template <class Ready, class Announce, class Completed>
bool wait_loop(Ready ready, Announce announce, Completed completed, const WaitPark& park_as) {
  Backoff backoff;
  for (;;) {
    if (ready()) return true;
    if (park_as.deadline == kImmediate) return false;
    if (park_as.spin && backoff.spin()) continue;
    if (!announce()) continue;
    const ParkResult r = park(park_as.key, park_as.validate, park_as.before_sleep,
                              park_as.timed_out, park_as.deadline, park_as.site,
                              park_as.park_token != nullptr ? *park_as.park_token : 0);
    park_as.after_park();
    switch (r.status) {
      case ParkStatus::kUnparked:
        if (r.token == park_as.done_token) return true;
        break;
      case ParkStatus::kInvalid:
        break;
      case ParkStatus::kTimedOut:
        return ready();
      case ParkStatus::kInterrupted:
        if (completed()) return true;
        throw_interruption();
    }
    backoff.reset();  // woken: a barging thread may have taken what woke us
  }
}

}  // namespace weft::detail
