// SPDX-License-Identifier: Apache-2.0
// L1 virtual-time bubbles (weft/detail/bubble.hpp).
//
// A bubble's state is guarded by its WordLock. That lock is never taken with a bucket
// lock of the parking lot held (bubble_parked and bubble_dequeued run after the bucket
// is unlocked), so the bubble may take bucket locks (the thread dump does) and deliver
// interrupts under it. A slot is listed as blocked only while its thread is parked and
// not yet dequeued, and a dequeued thread waits for (U2), which comes after
// bubble_dequeued: so the record of a listed slot is alive while the lock is held; a
// member slot is unlisted by its thread before the thread ends.
//
// A thread's slot is part of its record (the virtual time section, bubble_slot.hpp).
#include "weft/detail/bubble.hpp"

#include <atomic>
#include <chrono>
#include <string>

#include "park/bubble_slot.hpp"
#include "park/thread_record.hpp"
#include "park/word_lock.hpp"
#include "weft/detail/clock.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/intrusive_list.hpp"
#include "weft/detail/wait.hpp"
#include "weft/errors.hpp"

namespace weft::detail {

class Bubble : public VirtualTime {
 public:
  WordLock lock;
  std::atomic<std::int32_t> refs{1};
  // Guarded by lock.
  std::int64_t live = 0;
  std::int64_t blocked = 0;
  BubbleSlot* blocked_head = nullptr;
  BubbleSlot* members = nullptr;
  BubbleSlot* waiter = nullptr;  // the thread in testing::wait()
  bool deadlocked = false;
  std::string dump;
  // 0 while threads live; 1 once the last one left. run() waits on it.
  std::atomic<std::uint32_t> finished{0};

  void link(BubbleSlot& s) noexcept {
    list_push_front(blocked_head, s);
    s.blocked = true;
    ++blocked;
  }
  void unlink(BubbleSlot& s) noexcept {
    list_unlink(blocked_head, s);
    s.blocked = false;
    --blocked;
  }
  // Ends the park of a blocked slot: it no longer counts as blocked.
  void wake(BubbleSlot& s, BubbleWake why) noexcept {
    unlink(s);
    s.woken = why;
    interrupt_thread(*s.thread, why == BubbleWake::kDeadlock ? kInterruptDeadlock
                                                              : kInterruptBubble);
  }
  // Acts if every live thread is blocked (see weft/detail/bubble.hpp).
  void every_thread_blocked() noexcept;
  void take_dump() noexcept;
};

namespace {

// Virtual time starts here in every bubble: one hour after weft::clock's epoch.
constexpr std::int64_t kVirtualStartNs = std::int64_t{3600} * 1'000'000'000;

// The calling thread's slot (in its record).
BubbleSlot& this_slot() noexcept { return this_thread_record().bubble_slot; }

void add_ref(Bubble& b) noexcept { b.refs.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

void Bubble::take_dump() noexcept {
  try {
    std::string text = hooks::thread_dump([this](std::uint64_t ident) {
      for (const BubbleSlot* m = members; m != nullptr; m = m->member_next)
        if (m->thread->ident.load(std::memory_order_relaxed) == ident) return true;
      return false;
    });
    dump = "testing::run: deadlock: every thread of the bubble is blocked in weft and none "
           "has a timeout\n" +
           text;
  } catch (...) {
    dump = "testing::run: deadlock: every thread of the bubble is blocked in weft and none "
           "has a timeout (no memory for the thread dump)";
  }
}

void Bubble::every_thread_blocked() noexcept {
  if (live == 0 || blocked < live) return;
  if (waiter != nullptr && waiter->blocked) {
    wake(*waiter, BubbleWake::kWaitDone);
    return;
  }
  Deadline earliest = kForever;
  for (const BubbleSlot* s = blocked_head; s != nullptr; s = s->next)
    if (s->deadline < earliest) earliest = s->deadline;
  if (earliest != kForever) {
    const std::int64_t at = earliest.time_since_epoch().count();
    if (at > now_ns.load(std::memory_order_relaxed))
      now_ns.store(at, std::memory_order_release);
    for (BubbleSlot* s = blocked_head; s != nullptr;) {
      BubbleSlot* next = s->next;
      if (s->deadline <= earliest) wake(*s, BubbleWake::kDeadline);
      s = next;
    }
    return;
  }
  if (!deadlocked) {
    deadlocked = true;
    take_dump();
  }
  for (BubbleSlot* s = blocked_head; s != nullptr;) {
    BubbleSlot* next = s->next;
    if (s->interruptible) wake(*s, BubbleWake::kDeadlock);
    s = next;
  }
}

Bubble* bubble_thread_starting() noexcept {
  ThreadRecord& me = this_thread_record();
  Bubble* b = me.bubble_for_new_threads != nullptr ? me.bubble_for_new_threads
                                                   : me.bubble_slot.bubble;
  if (b == nullptr) return nullptr;
  add_ref(*b);
  WordLockGuard guard(b->lock);
  ++b->live;
  return b;
}

namespace {
// One live thread of `b` less (it left, or never started); the caller drops its reference.
void uncount_live(Bubble& b, BubbleSlot* member) noexcept {
  bool last = false;
  {
    WordLockGuard guard(b.lock);
    if (member != nullptr) {
      for (BubbleSlot** p = &b.members; *p != nullptr; p = &(*p)->member_next) {
        if (*p == member) {
          *p = member->member_next;
          break;
        }
      }
    }
    --b.live;
    last = b.live == 0;
    if (!last) b.every_thread_blocked();
  }
  if (last) {
    b.finished.store(1, std::memory_order_release);
    wake_by_address(b.finished, true);
  }
  bubble_release(&b);
}
}  // namespace

void bubble_thread_start_failed(Bubble* bubble) noexcept {
  if (bubble != nullptr) uncount_live(*bubble, nullptr);
}

void bubble_thread_enter(Bubble* bubble) noexcept {
  if (bubble == nullptr) return;
  ThreadRecord& me = this_thread_record();
  BubbleSlot& slot = me.bubble_slot;
  slot.thread = &me;
  {
    WordLockGuard guard(bubble->lock);
    slot.member_next = bubble->members;
    bubble->members = &slot;
  }
  slot.bubble = bubble;
  set_current_virtual_time(bubble);
}

void bubble_thread_exit() noexcept {
  BubbleSlot& slot = this_slot();
  Bubble* b = slot.bubble;
  if (b == nullptr) return;
  set_current_virtual_time(nullptr);
  slot.bubble = nullptr;
  uncount_live(*b, &slot);
}

BubbleSlot* current_bubble_slot() noexcept {
  BubbleSlot& slot = this_slot();
  return slot.bubble != nullptr ? &slot : nullptr;
}

bool bubble_parked(BubbleSlot& slot, Deadline deadline, bool interruptible) noexcept {
  Bubble& b = *slot.bubble;
  WordLockGuard guard(b.lock);
  if (slot.dequeued_early) {
    slot.dequeued_early = false;
    return false;
  }
  if (deadline != kForever &&
      deadline.time_since_epoch().count() <= b.now_ns.load(std::memory_order_relaxed)) {
    slot.woken = BubbleWake::kDeadline;
    return true;
  }
  if (interruptible && (pending_interrupts() & ~kInterruptBubble) != 0) {
    slot.woken = BubbleWake::kInterrupted;  // the park returns at once: never blocked
    return false;
  }
  slot.deadline = deadline;
  slot.interruptible = interruptible;
  b.link(slot);
  b.every_thread_blocked();
  return false;
}

void bubble_dequeued(BubbleSlot& slot) noexcept {
  Bubble& b = *slot.bubble;
  WordLockGuard guard(b.lock);
  if (slot.blocked) {
    b.unlink(slot);
  } else if (slot.woken == BubbleWake::kNone) {
    slot.dequeued_early = true;
  }
}

void bubble_interrupted(BubbleSlot& slot) noexcept {
  Bubble& b = *slot.bubble;
  WordLockGuard guard(b.lock);
  if (slot.blocked) {
    b.unlink(slot);
    slot.woken = BubbleWake::kInterrupted;
  }
}

BubbleWake bubble_park_done(BubbleSlot& slot) noexcept {
  Bubble& b = *slot.bubble;
  WordLockGuard guard(b.lock);
  const BubbleWake why = slot.woken;
  slot.woken = BubbleWake::kNone;
  if (why == BubbleWake::kDeadline || why == BubbleWake::kWaitDone) clear_interrupts(kInterruptBubble);
  return why;
}

void throw_bubble_deadlock() {
  clear_interrupts(kInterruptDeadlock);  // one throw per deadlocked wait
  std::string text;
  if (Bubble* b = this_slot().bubble; b != nullptr) {
    WordLockGuard guard(b->lock);
    text = b->dump;
  }
  throw testing::Deadlock(text.empty() ? "testing::run: deadlock" : text);
}

Bubble* bubble_create() {
  auto* b = new Bubble();
  b->now_ns.store(kVirtualStartNs, std::memory_order_relaxed);
  return b;
}

void bubble_release(Bubble* bubble) noexcept {
  if (bubble != nullptr && bubble->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
    delete bubble;
}

void set_bubble_for_new_threads(Bubble* bubble) noexcept {
  this_thread_record().bubble_for_new_threads = bubble;
}

void bubble_wait_finished(Bubble& bubble) noexcept {
  while (bubble.finished.load(std::memory_order_acquire) == 0)
    wait_on_address(bubble.finished, 0, kForever);
}

std::string bubble_deadlock_text(Bubble& b) {
  WordLockGuard guard(b.lock);
  return b.deadlocked ? b.dump : std::string();
}

void bubble_wait_others_blocked() {
  BubbleSlot* slot = current_bubble_slot();
  if (slot == nullptr) throw RuntimeError("testing::wait() called outside testing::run");
  Bubble& b = *slot->bubble;
  {
    WordLockGuard guard(b.lock);
    if (b.waiter != nullptr)
      throw RuntimeError("testing::wait(): another thread of the bubble is already waiting");
    b.waiter = slot;
  }
  struct Reset {
    Bubble& b;
    ~Reset() {
      WordLockGuard guard(b.lock);
      b.waiter = nullptr;
    }
  } reset{b};
  // Parked on a key of the bubble that no other wait uses: only the bubble ends this park.
  const ParkResult r = park(&b.waiter, [] { return true; }, kForever,
                            WaitSite{&b.waiter, ObjKind::other, SourceLoc{}});
  if (r.status == ParkStatus::kInterrupted) throw_interruption();
}

}  // namespace weft::detail
