// SPDX-License-Identifier: Apache-2.0
// src/queue/select_events.cpp: the registry of select calls watching Events; protocol
// (V1)/(V2) in weft/detail/select_events.hpp. Built on WordLock (uninstrumented) and the
// parking lot.
#include <array>
#include <cstdint>

#include "park/word_lock.hpp"
#include "weft/detail/intrusive_list.hpp"
#include "weft/detail/select_events.hpp"
#include "weft/event.hpp"

namespace weft::detail {

std::atomic<std::size_t> g_event_selects{0};

namespace {

struct Stripe {
  WordLock lock;
  SelectNode* head = nullptr;
};

constexpr std::size_t kStripes = 64;

Stripe& stripe_of(const void* event) {
  static std::array<Stripe, kStripes> stripes;
  const auto a = reinterpret_cast<std::uintptr_t>(event);
  return stripes[(a >> 4 ^ a >> 10) % kStripes];
}

}  // namespace

void event_select_link(SelectNode& node) noexcept {
  // Event::wake_all() reaches notify_event_selects() through this hook (L2 must not
  // include L3). Stored before the link and before (V1) sets kSelect.
  g_event_select_hook.store(&notify_event_selects, std::memory_order_release);
  Stripe& s = stripe_of(node.key);
  WordLockGuard guard(s.lock);
  node.fired = false;
  list_push_front(s.head, node);
  g_event_selects.fetch_add(1, std::memory_order_relaxed);
}

bool event_select_unlink(SelectNode& node) noexcept {
  Stripe& s = stripe_of(node.key);
  WordLockGuard guard(s.lock);
  list_unlink(s.head, node);
  g_event_selects.fetch_sub(1, std::memory_order_relaxed);
  return node.fired;
}

void notify_event_selects_slow(const void* event) noexcept {
  Stripe& s = stripe_of(event);
  WordLockGuard guard(s.lock);
  for (SelectNode* n = s.head; n != nullptr; n = n->next) {
    if (n->key != event) continue;
    n->fired = true;
    notify_select_waiter(*n->waiter);
  }
}

}  // namespace weft::detail
