// SPDX-License-Identifier: Apache-2.0
// Semaphore slow paths.
//   (S1) acquire: the CAS value -> value-1 with acquire order pairs with (S2).
//   (S2) release: the RMW value -> value+n with release order publishes the releaser.
//   (S3) an acquirer increments parked_ and checks value_ == 0 inside park()'s validate,
//        under the bucket lock, both seq_cst. release() does (S2) seq_cst, then reads
//        parked_ seq_cst. So either the acquirer sees the new permits and does not park,
//        or release() sees parked_ != 0 and unparks, which takes the same bucket lock
//        and finds the acquirer on the queue. parked_ only ever over-counts (it drops
//        after the thread left the queue), which costs a needless unpark, never a lost one.
//   (S4) an interrupted acquirer has left the queue (parked_ dropped) and throws holding
//        nothing. A release() that unparked it first made its park return kUnparked: it
//        takes the permit (or, if a barging thread took it, parks again and throws then,
//        while that permit is held by the barger, who releases it to the next waiter).
#include "weft/semaphore.hpp"

#include <limits>

#include "threading/wait_loop.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/errors.hpp"

namespace weft {

Semaphore::Semaphore(std::ptrdiff_t value, std::string_view name)
    : Semaphore(value, std::numeric_limits<std::ptrdiff_t>::max(), name) {}

Semaphore::Semaphore(std::ptrdiff_t value, std::ptrdiff_t bound, std::string_view name)
    : value_(value), bound_(bound) {
  if (value < 0) throw ValueError("semaphore initial value must be >= 0");
  if (!name.empty()) set_name(name);
}

Semaphore::~Semaphore() { detail::hooks::forget_object(this, flags_); }

void Semaphore::set_name(std::string_view name) {
  detail::hooks::name_object(this, detail::ObjKind::semaphore, name, flags_);
}

bool Semaphore::acquire_slow(detail::Deadline deadline, detail::SourceLoc loc) {
  auto take_permit = [&] {
    std::ptrdiff_t v = value_.load(std::memory_order_relaxed);
    while (v > 0) {
      if (value_.compare_exchange_weak(v, v - 1, std::memory_order_acquire,  // (S1)
                                       std::memory_order_relaxed))
        return true;
    }
    return false;
  };
  return detail::wait_loop(
      take_permit, [] { return true; }, [] { return false; },
      detail::WaitPark{
          &value_,
          [&] {
            parked_.fetch_add(1, std::memory_order_seq_cst);  // (S3)
            if (value_.load(std::memory_order_seq_cst) == 0) return true;
            parked_.fetch_sub(1, std::memory_order_relaxed);
            return false;
          },
          [] {}, [&](const void*, bool) { parked_.fetch_sub(1, std::memory_order_relaxed); },
          [] {}, deadline, detail::WaitSite{this, detail::ObjKind::semaphore, loc}});
}

void Semaphore::release(std::size_t n) {
  if (n == 0) throw ValueError("Semaphore release count must be >= 1");
  std::ptrdiff_t v = value_.load(std::memory_order_relaxed);
  for (;;) {
    if (n > static_cast<std::size_t>(bound_ - v)) {
      if (bound_ != std::numeric_limits<std::ptrdiff_t>::max())
        throw ValueError("Semaphore released too many times");
      throw ValueError("Semaphore value would overflow");
    }
    // (S2)
    if (value_.compare_exchange_weak(v, v + static_cast<std::ptrdiff_t>(n),
                                     std::memory_order_seq_cst, std::memory_order_relaxed))
      break;
  }
  if (parked_.load(std::memory_order_seq_cst) == 0) return;  // (S3)
  const std::size_t woken = detail::unpark_n(&value_, n);
  if (woken != 0) parked_.fetch_sub(static_cast<std::uint32_t>(woken), std::memory_order_relaxed);
}

}  // namespace weft
