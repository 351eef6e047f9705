// SPDX-License-Identifier: Apache-2.0
// weft/detail/select_events.hpp: how weft::select watches Events.
//
// A select call that waits on an Event links a SelectNode (key = the Event) into a
// small global registry, then sets the Event's kSelect state bit so that the Event's
// next set() takes its slow path (Event::wake_all), which calls notify_event_selects().
// That notifies every node registered for the event: it marks the node fired and
// unparks its select ((SN1) in select_node.hpp). Linking, unlinking and notifying run
// under a striped, uninstrumented lock, so a node is never touched after its select
// unlinked it.
//   (V1) select: link the node, then fetch_or(kSelect, acq_rel) on the Event's state.
//   (V2) set(): its acq_rel RMW that sets kSet sees kSelect (or a later value), so the link
//        happened-before wake_all(): notify_event_selects() finds the node.
// Cost when no select watches any Event: set() is unchanged and wake_all() does one
// relaxed load.
#pragma once

#include <atomic>
#include <cstddef>

#include "weft/detail/config.hpp"
#include "weft/detail/select_node.hpp"

namespace weft::detail {

// Registered event nodes, all events together (a hint for the fast exit).
extern std::atomic<std::size_t> g_event_selects;

// Links / unlinks node (node.key is the Event). unlink returns node.fired, read under
// the registry lock: true if a set() notified this node while it was linked.
void event_select_link(SelectNode& node) noexcept;
bool event_select_unlink(SelectNode& node) noexcept;

WEFT_NOINLINE void notify_event_selects_slow(const void* event) noexcept;

// Called by Event::wake_all(): wakes every select watching `event`.
inline void notify_event_selects(const void* event) noexcept {
  if (g_event_selects.load(std::memory_order_relaxed) != 0) notify_event_selects_slow(event);
}

}  // namespace weft::detail
