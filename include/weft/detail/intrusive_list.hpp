// SPDX-License-Identifier: Apache-2.0
// weft/detail/intrusive_list.hpp (L0): the link operations of weft's intrusive lists,
// whose nodes carry their own links and live in their owners' storage (no allocation).
// The caller holds whatever lock guards the list; nothing here is atomic.
#pragma once

namespace weft::detail {

// Unordered, doubly linked through the node's members `Prev` and `Next` (by default
// `prev` and `next`), from `head`.

// Puts `node` (on no list) first on the list at `head`.
template <auto Prev, auto Next, class Node>
void list_push_front(Node*& head, Node& node) noexcept {
  node.*Prev = nullptr;
  node.*Next = head;
  if (head != nullptr) head->*Prev = &node;
  head = &node;
}
template <class Node>
void list_push_front(Node*& head, Node& node) noexcept {
  list_push_front<&Node::prev, &Node::next>(head, node);
}

// Takes `node` off the list at `head`, which it is on, and clears its links.
template <auto Prev, auto Next, class Node>
void list_unlink(Node*& head, Node& node) noexcept {
  if (node.*Prev != nullptr) {
    (node.*Prev)->*Next = node.*Next;
  } else {
    head = node.*Next;
  }
  if (node.*Next != nullptr) (node.*Next)->*Prev = node.*Prev;
  node.*Prev = node.*Next = nullptr;
}
template <class Node>
void list_unlink(Node*& head, Node& node) noexcept {
  list_unlink<&Node::prev, &Node::next>(head, node);
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
