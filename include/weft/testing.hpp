// SPDX-License-Identifier: Apache-2.0
// <weft/testing.hpp>: virtual time for tests (after Go's testing/synctest).
//
// testing::run(fn) runs fn on a new thread inside a *bubble*. Threads started in the
// bubble (weft::Thread, Timer, executor workers: anything weft starts) belong to it.
// weft::clock, and with it every timeout, deadline, Timer interval and weft::sleep of a
// bubble thread, reads the bubble's virtual clock: it starts at the same value in every
// run (one hour after weft::clock's epoch) and advances only when every thread of the
// bubble is blocked in a weft call, straight to the earliest deadline. A 10-minute Timer
// takes no real time, and the same test sees the same timestamps in every run.
//
// Blocked means parked in a weft wait (a lock, condition, event, queue, future, join,
// weft::sleep, ...). A thread that runs, or blocks in a system call, a std:: primitive,
// std::this_thread::sleep_for or on another process, is not blocked, so virtual time
// stands still meanwhile. weft objects do not record the bubble that created them:
// every weft wait of a bubble thread counts as blocked, also on an object a thread
// outside the bubble would set (the bubble does not know about that thread).
//
// When every thread of the bubble is blocked and none has a deadline (and none is in
// testing::wait()), the bubble is deadlocked: each of those waits throws
// testing::Deadlock, and run throws testing::Deadlock once every thread of the bubble
// has ended. Its what() is the thread dump of the bubble's threads
// (who waits on what; who holds what when the lock tools are on, WEFT_DEBUG=deadlock).
// Waits that must finish (the lock re-acquisition of a cancelled Condition::wait,
// weft-internal locks) are not ended.
//
// Bubbles do not nest: run from inside a bubble throws RuntimeError.
#pragma once

#include <type_traits>
#include <utility>

#include "weft/detail/clock.hpp"
#include "weft/detail/function_ref.hpp"
#include "weft/errors.hpp"

namespace weft::detail {
void run_in_bubble(FunctionRef<void()> fn);  // src/threading/testing.cpp
}  // namespace weft::detail

namespace weft::testing {

/// Runs fn() on a new thread inside a new bubble (see the top of this file) and returns
/// when fn and every thread started in the bubble have finished.
/// Throws: what fn threw; testing::Deadlock if the bubble deadlocked (then with the
/// thread dump, whatever fn threw); RuntimeError inside a bubble or if the thread cannot
/// be started.
template <class F>
  requires std::is_invocable_v<F&>
void run(F&& fn) {
  detail::run_in_bubble([&fn] { fn(); });
}

/// Blocks until every other thread of the calling thread's bubble is blocked in weft
/// (Go's synctest.Wait). Never advances the clock.
/// Throws: RuntimeError outside a bubble or while another thread of the bubble is in
/// wait(); testing::Deadlock if the bubble deadlocks.
void wait();

}  // namespace weft::testing
