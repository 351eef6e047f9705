// SPDX-License-Identifier: Apache-2.0
// weft/detail/wait.hpp: L0, the wait layer. Block on a 32-bit word until it is woken.
//
// Two backends: the Linux futex (private, absolute CLOCK_MONOTONIC deadline) and a
// portable fallback (a fixed table of mutex + condition-variable buckets). The backend
// is chosen once per process: the fallback when weft is built with
// WEFT_WAIT_BACKEND=fallback or when the environment variable WEFT_WAIT_BACKEND=fallback
// is set at start-up; the futex otherwise. Only the parking lot and its word lock call
// this layer.
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/detail/deadline.hpp"

namespace weft::detail {

enum class WaitResult : std::uint8_t {
  woken,      // a wake, or a spurious return: the caller re-checks its word
  mismatch,   // *word != expected when the wait began
  timed_out,  // the deadline passed
};

// Blocks while *word == expected, until woken or the deadline passes. May return
// spuriously (reported as woken). Safe to call with kForever. The deadline is steady
// time (weft::clock outside a bubble): a bubble's parks pass kForever here.
WaitResult wait_on_address(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                           Deadline deadline) noexcept;

// Wakes one (all = false) or every thread blocked in wait_on_address on `word`.
void wake_by_address(const std::atomic<std::uint32_t>& word, bool all) noexcept;

// "futex" or "fallback": the backend this process uses.
const char* wait_backend_name() noexcept;

// Creates L0's tables and registers its fork() handlers, once. A layer that registers
// fork() handlers of its own calls this first: fork() runs the prepare handlers in reverse
// order of registration and the parent / child handlers in order, so L0's locks are then
// taken after, and released before, the locks of that layer, whose handlers may need L0
// to wait or to wake.
void ensure_wait_layer_ready() noexcept;

}  // namespace weft::detail
