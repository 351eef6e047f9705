// SPDX-License-Identifier: Apache-2.0
// src/queue/select_node.cpp: waking a select call, the rotation of its scans, and a
// queue's list of linked select calls (protocol (SN1)/(SN2) in weft/detail/select_node.hpp).
#include "weft/detail/select_node.hpp"

#include "weft/detail/intrusive_list.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::detail {

void notify_select_waiter(SelectWaiter& waiter) noexcept {
  // (SN1) the flag is set before the unpark's bucket lock: pairs with (SN2).
  waiter.notified.store(1, std::memory_order_relaxed);
  unpark_one(&waiter.notified);
}

std::size_t select_rotation() noexcept {
  thread_local std::size_t next = 0;
  return next++;
}

void SelectorList::link(SelectNode& node) noexcept { list_push_front(head, node); }

void SelectorList::unlink(SelectNode& node) noexcept { list_unlink(head, node); }

void SelectorList::notify() const noexcept {
  for (SelectNode* n = head; n != nullptr; n = n->next) notify_select_waiter(*n->waiter);
}

}  // namespace weft::detail
