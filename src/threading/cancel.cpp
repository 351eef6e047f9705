// SPDX-License-Identifier: Apache-2.0
// Cancellation on top of the parking lot's interrupts (<weft/cancel.hpp>): the chain of stop
// scopes, Timeout, weft::sleep and check_interrupt. Ctrl-C's handler is L1
// (src/park/keyboard_interrupt.cpp).
#include "weft/cancel.hpp"

#include "weft/detail/keyboard_interrupt.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft {
namespace detail {
namespace {

constinit thread_local StopScopeLink* tls_innermost_link = nullptr;

}  // namespace

StopScopeLink::StopScopeLink() noexcept : outer_(tls_innermost_link) { tls_innermost_link = this; }

void StopScopeLink::unlink() noexcept {
  if (!linked_) return;
  linked_ = false;
  tls_innermost_link = outer_;
}

StopScopeLink::~StopScopeLink() { unlink(); }

// Cleared first, then set again if a live link is stopped: whoever stops a link makes its
// stop_requested() true before it sets the reason, so a stop that races with this either
// is seen by the loop or sets the reason after the clear.
void restore_stop_reason() noexcept {
  clear_interrupts(kInterruptStop);
  for (const StopScopeLink* link = tls_innermost_link; link != nullptr; link = link->outer()) {
    if (link->stop_requested()) {
      add_interrupt_reasons(current_thread_data(), kInterruptStop);
      return;
    }
  }
}

void sleep_until(Deadline deadline) {
  // A key of this thread that nothing unparks: only the deadline or an interrupt ends it.
  thread_local const char key = 0;
  const WaitSite site{nullptr, ObjKind::other, {}};
  for (;;) {
    if (deadline == kImmediate || Clock::now() >= deadline) return;
    const ParkResult r = park(&key, [] { return true; }, deadline, site);
    if (r.status == ParkStatus::kInterrupted) throw_interruption();
    if (r.status == ParkStatus::kTimedOut) return;
  }
}

}  // namespace detail

void install_keyboard_interrupt() { detail::install_sigint_handler(); }

void check_interrupt() {
  if ((detail::pending_interrupts() & detail::kInterruptKeyboard) != 0) {
    detail::clear_interrupts(detail::kInterruptKeyboard);
    throw KeyboardInterrupt();
  }
}

// ---- CancelScope ----

void CancelScope::Interrupt::operator()() const noexcept {
  detail::interrupt_thread(*owner, detail::kInterruptStop);
}

CancelScope::CancelScope(std::stop_token token) : token_(std::move(token)) {
  if (token_.stop_possible()) callback_.emplace(token_, Interrupt{&detail::current_thread_data()});
}

// The callback is gone (and no longer running on any thread) before the reason is
// restored, so it cannot set the reason again afterwards.
CancelScope::~CancelScope() {
  callback_.reset();
  unlink();
  detail::restore_stop_reason();
}

// ---- Timeout ----

Timeout::Timeout(detail::Deadline deadline) noexcept
    : deadline_(deadline), enclosing_(detail::scope_deadline()) {
  if (deadline_ < enclosing_) detail::set_scope_deadline(deadline_);
}

Timeout::~Timeout() { detail::set_scope_deadline(enclosing_); }

bool Timeout::expired() const noexcept { return detail::Clock::now() >= deadline_; }

}  // namespace weft
