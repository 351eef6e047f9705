// SPDX-License-Identifier: Apache-2.0
// L1 interrupts: ending a thread's interruptible park from another thread (or a signal
// handler), and the calling thread's interrupt reasons, scope deadline and
// NoInterruptScope (contracts in weft/detail/parking_lot.hpp).
//
// interrupt_thread() is the interrupter's side, (I1) and (I2), of the protocol at the
// top of parking_lot.cpp; the parker's side, (P5) and (P6), is park() there.
#include <atomic>
#include <cstdint>

#include "park/parked_word.hpp"
#include "park/thread_record.hpp"
#include "weft/detail/bubble.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/wait.hpp"
#include "weft/errors.hpp"

namespace weft::detail {

using lot_detail::interrupt_reason_pending;
using lot_detail::kAcceptsInterrupt;
using lot_detail::kInterrupted;
using lot_detail::kSleeping;

void interrupt_thread(ThreadRecord& target, std::uint32_t reasons) noexcept {
  target.interrupts.fetch_or(reasons, std::memory_order_seq_cst);  // (I1)
  std::uint32_t state = target.parked.load(std::memory_order_seq_cst);
  while ((state & kAcceptsInterrupt) != 0) {
    if (target.parked.compare_exchange_weak(state, kInterrupted, std::memory_order_seq_cst,
                                            std::memory_order_seq_cst)) {  // (I2)
      // A bubble thread stops counting as blocked (the bubble's own wakes have done that).
      // Never for the main thread, so the SIGINT handler takes no lock here.
      if (target.bubble_slot.bubble != nullptr &&
          (reasons & (kInterruptBubble | kInterruptDeadlock)) == 0)
        bubble_interrupted(target.bubble_slot);
      if ((state & kSleeping) != 0) wake_by_address(target.parked, false);
      return;
    }
  }
}

void add_interrupt_reasons(ThreadRecord& target, std::uint32_t reasons) noexcept {
  target.interrupts.fetch_or(reasons, std::memory_order_seq_cst);
}

void clear_interrupts(std::uint32_t reasons) noexcept {
  this_thread_record().interrupts.fetch_and(~reasons, std::memory_order_seq_cst);
}

std::uint32_t pending_interrupts() noexcept {
  return this_thread_record().interrupts.load(std::memory_order_seq_cst);
}

Deadline scope_deadline() noexcept { return this_thread_record().scope_deadline; }

void set_scope_deadline(Deadline deadline) noexcept {
  this_thread_record().scope_deadline = deadline;
}

NoInterruptScope::NoInterruptScope() noexcept { ++this_thread_record().no_interrupt_depth; }

NoInterruptScope::~NoInterruptScope() { --this_thread_record().no_interrupt_depth; }

bool interruption_pending() noexcept { return interrupt_reason_pending(this_thread_record()); }

void throw_interruption() {
  ThreadRecord& me = this_thread_record();
  const std::uint32_t reasons = me.interrupts.load(std::memory_order_seq_cst);
  if ((reasons & kInterruptKeyboard) != 0) {
    me.interrupts.fetch_and(~kInterruptKeyboard, std::memory_order_seq_cst);
    throw KeyboardInterrupt();
  }
  if ((reasons & kInterruptDeadlock) != 0) throw_bubble_deadlock();
  if ((reasons & kInterruptStop) != 0) throw CancelledError("the wait was cancelled: stop requested");
  if (me.scope_deadline != kForever && Clock::now() >= me.scope_deadline)
    throw TimeoutError("the Timeout scope's deadline passed");
  throw CancelledError("the wait was interrupted");
}

}  // namespace weft::detail
