// SPDX-License-Identifier: Apache-2.0
// A seam for tests of Event (private to weft and its tests): a function that set() calls
// after its update of the state word and before it wakes the waiters it found (E4), so a
// test can hold a setter inside that window and check what a later wait() sees
// (tests/threading/event_test.cpp).
#pragma once

#include <atomic>

namespace weft::detail {

// Called with the Event's address, on the setting thread, at the start of
// Event::wake_all() (the slow path of a set() that found waiters or a select); null:
// nothing is called. Set only by tests, before the Events it concerns are set.
using EventWakeWindowHook = void (*)(const void* event);
extern std::atomic<EventWakeWindowHook> g_event_wake_window_hook_for_tests;

}  // namespace weft::detail
