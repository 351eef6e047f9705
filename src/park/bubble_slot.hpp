// SPDX-License-Identifier: Apache-2.0
// A thread's part of its virtual-time bubble (L1, private to src/park): the virtual time
// section of its record (thread_record.hpp). Used by bubble.cpp; the parking lot only
// tests `bubble` and passes the slot to the functions of weft/detail/bubble.hpp.
#pragma once

#include "weft/detail/bubble.hpp"
#include "weft/detail/deadline.hpp"

namespace weft::detail {

struct ThreadRecord;

struct BubbleSlot {
  // The thread's bubble, nullptr outside one. Written by the owning thread only (when it
  // enters or leaves its bubble); read by unparkers while the thread is parked.
  Bubble* bubble = nullptr;
  ThreadRecord* thread = nullptr;  // the record this slot is part of, set with `bubble`
  // Guarded by bubble->lock.
  BubbleSlot* prev = nullptr;  // the bubble's list of blocked slots
  BubbleSlot* next = nullptr;
  BubbleSlot* member_next = nullptr;  // the bubble's list of member threads
  Deadline deadline = kForever;       // of the current park
  bool interruptible = false;         // of the current park
  bool blocked = false;               // listed as blocked
  bool dequeued_early = false;        // dequeued before bubble_parked() ran
  BubbleWake woken = BubbleWake::kNone;
};

}  // namespace weft::detail
