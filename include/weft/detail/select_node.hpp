// SPDX-License-Identifier: Apache-2.0
// weft/detail/select_node.hpp: how a weft::select call waits on its sources.
//
// A select call links a SelectNode into every source it watches and parks on its own
// SelectWaiter. A queue keeps the nodes linked to it in a SelectorList, guarded by one
// of its locks (queue_locked.hpp, queue_fifo.hpp); Events keep theirs in a registry
// (select_events.hpp). Every put and shutdown notifies each linked node while it still
// holds that lock, so a node is never notified after its select unlinked it (and its
// frame is gone):
//   (SN1) a notifier sets the waiter's flag, then unparks it;
//   (SN2) the select call re-checks the flag in park()'s validate, under the bucket
//         lock, so a notification between its last poll and its park is never missed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "weft/detail/config.hpp"

namespace weft::detail {

// One select call waiting on several sources.
struct SelectWaiter {
  std::atomic<std::uint32_t> notified{0};  // (SN1) set by notifiers, (SN2) read by validate
};

// The link of one select call into one source's list (intrusive, lives in the call's frame).
struct SelectNode {
  SelectWaiter* waiter = nullptr;
  SelectNode* prev = nullptr;
  SelectNode* next = nullptr;
  const void* key = nullptr;  // Event sources: the Event (see select_events.hpp)
  bool fired = false;         // Event sources: set() ran while linked
};

// Sets the waiter's flag and unparks it (SN1). Safe to call while holding any weft lock.
void notify_select_waiter(SelectWaiter& waiter) noexcept;

// The start position of the next select scan on this thread: rotating, so a source
// that stays ready is taken within N calls (N = number of sources).
std::size_t select_rotation() noexcept;

// A queue's list of linked select calls (intrusive, doubly linked through SelectNode).
// Not thread-safe: the owning queue guards it with one of its locks.
struct SelectorList {
  SelectNode* head = nullptr;
  void link(SelectNode& node) noexcept;
  void unlink(SelectNode& node) noexcept;
  // Notifies every linked select (SN1).
  WEFT_NOINLINE void notify() const noexcept;
};

}  // namespace weft::detail
