// SPDX-License-Identifier: Apache-2.0
// weft/detail/bubble.hpp: L1, virtual-time bubbles (weft::testing::run, <weft/testing.hpp>).
//
// A bubble counts its live threads and, of them, those blocked in a park. A thread
// counts as blocked from its enqueue (after validate and before_sleep) until it is
// dequeued: by an unparker (which uncounts it before waking it, so a woken thread that
// has not run yet never looks blocked), by its own timeout or interrupt, or by the
// bubble itself when it wakes it. Every park of a bubble thread counts (weft objects do
// not record the bubble that created them). Whenever every live thread is blocked:
//   1. if a thread is in testing::wait(), it is woken (the clock does not move);
//   2. else if a blocked thread has a deadline, the virtual clock jumps to the earliest
//      one and every thread whose deadline is reached is woken (its park times out);
//   3. else the bubble is deadlocked: it takes the thread dump (the text of
//      WEFT_DEBUG=deadlock, limited to its threads) and interrupts every interruptible
//      park of its threads with kInterruptDeadlock, so that each throws
//      testing::Deadlock (once: a later wait that blocks everyone again is a new
//      deadlock, reported with the same dump).
// Parks of a bubble thread pass no deadline to the OS: only the bubble ends them early.
// Threads started by a bubble thread (weft::Thread and everything built on it: Timer,
// executor workers) join its bubble; they count as live from before their OS thread
// exists until their last weft action.
#pragma once

#include <cstdint>
#include <string>

#include "weft/detail/deadline.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::detail {

class Bubble;
struct BubbleSlot;  // a bubble thread's part of the bubble's state

// ---- for whatever starts threads (Thread::start) ----

// Called by a thread about to start another. If new threads started by the calling
// thread belong to a bubble, counts one more live thread in it and returns it (to pass
// to bubble_thread_enter on the new thread, or to bubble_thread_start_failed); nullptr
// otherwise.
Bubble* bubble_thread_starting() noexcept;
// The thread announced by bubble_thread_starting() could not be started.
void bubble_thread_start_failed(Bubble* bubble) noexcept;
// On the new thread, before anything else: joins `bubble` (nothing for nullptr).
void bubble_thread_enter(Bubble* bubble) noexcept;
// On a bubble thread, after its last weft action (after it woke its joiners): leaves
// its bubble, which may then advance its clock. Nothing outside a bubble.
void bubble_thread_exit() noexcept;

// ---- for the parking lot (src/park/parking_lot.cpp); `slot` is the parker's ----

// Why the bubble ended a park (what the parker does with it).
enum class BubbleWake : std::uint8_t {
  kNone,      // not woken by the bubble
  kDeadline,  // the virtual clock reached the park's deadline: it times out
  kWaitDone,  // testing::wait(): every other thread is blocked
  kDeadlock,  // the bubble deadlocked: kInterruptDeadlock is pending
  kInterrupted,  // not the bubble: an interrupt ends the park (the thread no longer counts
                 // as blocked from the interrupt on, see bubble_interrupted)
};

// The calling thread's slot, nullptr outside a bubble.
BubbleSlot* current_bubble_slot() noexcept;
// After (P1) and before_sleep: the parker counts as blocked until bubble_dequeued().
// `deadline` is the park's (virtual) wake-up time. Returns true if that time has
// already come: then the parker does not sleep and times out (as if woken, kDeadline).
bool bubble_parked(BubbleSlot& slot, Deadline deadline, bool interruptible) noexcept;
// The parker was taken off its queue (at (U1) by an unparker, before (U2); or in (P3)
// by the parker itself), with no bucket lock held.
void bubble_dequeued(BubbleSlot& slot) noexcept;
// An interrupter ended the slot's interruptible park ((I2) succeeded; not for the bubble's
// own kInterruptBubble / kInterruptDeadlock): the parker stops counting as blocked now, not
// only once it runs again, so the clock cannot jump past a park that was cut short.
// bubble_parked() likewise does not count a park whose thread has a reason pending.
void bubble_interrupted(BubbleSlot& slot) noexcept;
// Before the park returns: why the bubble woke it (kNone if it did not); resets that.
BubbleWake bubble_park_done(BubbleSlot& slot) noexcept;

// Throws testing::Deadlock with the bubble's dump and clears the calling thread's
// kInterruptDeadlock (after its bubble deadlocked).
[[noreturn]] void throw_bubble_deadlock();

// ---- for weft::testing (src/threading/testing.cpp) ----

// A new bubble, owned by the caller until bubble_release().
Bubble* bubble_create();
void bubble_release(Bubble* bubble) noexcept;
// Threads the calling thread starts from now on belong to `bubble` (nullptr: back to
// the calling thread's own bubble). For testing::run, which starts the bubble's first
// thread from outside.
void set_bubble_for_new_threads(Bubble* bubble) noexcept;
// Blocks (not as a bubble thread) until every thread of `bubble` has left it.
void bubble_wait_finished(Bubble& bubble) noexcept;
// After bubble_wait_finished: the thread dump if the bubble deadlocked, else empty.
std::string bubble_deadlock_text(Bubble& bubble);
// testing::wait() on the calling thread. Throws RuntimeError outside a bubble or when
// another thread of the bubble is already in wait(), testing::Deadlock if the bubble
// deadlocks meanwhile.
void bubble_wait_others_blocked();

}  // namespace weft::detail
