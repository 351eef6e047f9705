// SPDX-License-Identifier: Apache-2.0
// park/parked_word.hpp (L1, private to src/park): the states of ThreadRecord::parked,
// the word on which a parked thread spins and sleeps, and the interrupt check, shared by
// park() (parking_lot.cpp) and interrupt_thread() (interrupts.cpp).
//
// Contract: `parked` is 0 while the thread is not parked (and once it is unparked), and
// otherwise one of the states below. Who may change it, and how, is the protocol at the
// top of parking_lot.cpp: (P1), (P4) and (P6) by the parker, (U2) by an unparker, (I2)
// by an interrupter.
#pragma once

#include <atomic>
#include <cstdint>

#include "park/thread_record.hpp"
#include "weft/detail/clock.hpp"
#include "weft/detail/deadline.hpp"

namespace weft::detail::lot_detail {

constexpr std::uint32_t kSpinning = 1;          // queued, spinning in user space
constexpr std::uint32_t kSleeping = 2;          // queued, (about to be) asleep in L0
constexpr std::uint32_t kAcceptsInterrupt = 4;  // or'ed into the above: an interruptible park
constexpr std::uint32_t kInterrupted = 8;       // set by (I2); the parker removes itself

// True if the calling thread (`me`) has a reason to end an interruptible park now.
inline bool interrupt_reason_pending(const ThreadRecord& me) noexcept {
  return me.interrupts.load(std::memory_order_seq_cst) != 0 ||
         (me.scope_deadline != kForever && Clock::now() >= me.scope_deadline);
}

}  // namespace weft::detail::lot_detail
