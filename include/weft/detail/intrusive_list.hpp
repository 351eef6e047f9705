// SPDX-License-Identifier: Apache-2.0
// weft/detail/intrusive_list.hpp (L0): the link operations of weft's intrusive lists,
// whose nodes carry their own links and live in their owners' storage (no allocation).
// The caller holds whatever lock guards the list; nothing here is atomic.
#pragma once

namespace weft::detail {

// Unordered, doubly linked through the node's `prev` and `next`, from `head`.

// Puts `node` (on no list) first on the list at `head`.
template <class Node>
void list_push_front(Node*& head, Node& node) noexcept {
  node.prev = nullptr;
  node.next = head;
  if (head != nullptr) head->prev = &node;
  head = &node;
}

// Takes `node` off the list at `head`, which it is on, and clears its links.
template <class Node>
void list_unlink(Node*& head, Node& node) noexcept {
  if (node.prev != nullptr) {
    node.prev->next = node.next;
  } else {
    head = node.next;
  }
  if (node.next != nullptr) node.next->prev = node.prev;
  node.prev = node.next = nullptr;
}

// First in, first out, singly linked through the node's member `Next`, from `head` to
// `tail` (both nullptr when empty).

// Appends `node` (on no list) at `tail`.
template <auto Next, class Node>
void fifo_push_back(Node*& head, Node*& tail, Node& node) noexcept {
  node.*Next = nullptr;
  if (tail != nullptr) {
    tail->*Next = &node;
  } else {
    head = &node;
  }
  tail = &node;
}

}  // namespace weft::detail
