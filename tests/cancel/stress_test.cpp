// SPDX-License-Identifier: Apache-2.0
// A stop request racing a normal wake-up, with exact accounting. A consumer takes one item
// from a one-slot mailbox (a wait on the parking lot, as every weft primitive waits)
// inside a CancelScope; a producer, in each round, puts an item, requests stop, does both
// at once in random order, or requests stop and puts the item once the consumer left its
// scope. Every round ends with the item taken or with CancelledError and the item still in
// the slot, never lost and never taken twice; a round with only an item is never
// cancelled and one with only a stop always is; and no stop leaks out of its scope into
// the next round. Under a sanitizer the rounds are 3,000 (a handful of hand-offs each, which
// a loaded machine makes slow), else up to 1,000,000: about 4 s on a quiet machine. Each
// hand-off waits by yielding, so a machine loaded many times over (or a debug mode that
// slows every park) can make a round take milliseconds; the test then ends after
// kRoundBudget with at least kMinRounds rounds done. The budget bounds the work only: every
// round done is checked exactly, whatever the count.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stop_token>
#include <thread>

#include "weft/cancel.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/tsan.hpp"

namespace {

namespace wd = weft::detail;

#if defined(WEFT_TSAN) || defined(__SANITIZE_ADDRESS__)
// Every round is several hand-offs between two threads; under ThreadSanitizer with two CPU
// hogs beside it on 2 cores it ran ~50 rounds a second. 3,000 rounds still see each action
// some 600 times; the million rounds of the optimised build are the stress.
constexpr std::uint64_t kRounds = 3'000;
#else
constexpr std::uint64_t kRounds = 1'000'000;
#endif
constexpr std::uint64_t kMinRounds = 3'000;
constexpr std::chrono::seconds kRoundBudget{30};

enum Action : std::uint8_t {
  kItem = 1,
  kStop = 2,
  kItemThenStop = 3,
  kStopThenItem = 4,
  kStopThenLateItem = 5,  // the item comes after the consumer was cancelled: it stays queued
};
constexpr int kActions = 5;

struct Mailbox {
  std::atomic<std::uint32_t> slot{0};  // 1: an item is there

  void put() {
    slot.store(1, std::memory_order_release);
    wd::unpark_one(&slot);
  }
  bool try_take() { return slot.exchange(0, std::memory_order_acq_rel) == 1; }
  // Blocks until an item is there and takes it. Throws what an interrupt means.
  void take() {
    const wd::WaitSite site{&slot, wd::ObjKind::other, {}};
    for (;;) {
      if (try_take()) return;
      const wd::ParkResult r = wd::park(
          &slot, [&] { return slot.load(std::memory_order_relaxed) == 0; }, wd::kForever, site);
      if (r.status == wd::ParkStatus::kInterrupted) wd::throw_interruption();
    }
  }
};

// Spins (yielding) until `counter` reaches `value`.
void await(const std::atomic<std::uint64_t>& counter, std::uint64_t value) {
  while (counter.load(std::memory_order_acquire) < value) std::this_thread::yield();
}

TEST(CancelStress, StopRacingAnItemNeverLosesIt) {
  Mailbox box;
  std::atomic<std::uint64_t> ready{0};  // the consumer's scope of round i exists
  std::atomic<std::uint64_t> acted{0};  // the producer finished round i
  std::atomic<std::uint64_t> left{0};   // the consumer left its scope of round i
  std::atomic<std::uint64_t> last{kRounds};  // the last round; lowered before `ready` passes it
  std::stop_source* current = nullptr;  // published by `ready`
  std::uint64_t items_put = 0;
  std::uint8_t actions_seen[kActions + 1] = {};

  std::thread producer([&] {
    std::mt19937 rng(20261206);
    for (std::uint64_t i = 1; i <= kRounds; ++i) {
      await(ready, i);
      if (i > last.load(std::memory_order_acquire)) break;
      const auto action = static_cast<Action>(1 + rng() % kActions);
      switch (action) {
        case kItem: box.put(); ++items_put; break;
        case kStop: current->request_stop(); break;
        case kItemThenStop: box.put(); ++items_put; current->request_stop(); break;
        case kStopThenItem: current->request_stop(); box.put(); ++items_put; break;
        case kStopThenLateItem:
          current->request_stop();
          await(left, i);
          box.put();
          ++items_put;
          break;
      }
      actions_seen[action] = 1;
      acted.store(i, std::memory_order_release);
    }
  });
  struct Join {
    std::thread& t;
    std::atomic<std::uint64_t>& ready;
    std::atomic<std::uint64_t>& left;
    ~Join() {
      ready.store(~std::uint64_t{0}, std::memory_order_release);  // never wait for us again
      left.store(~std::uint64_t{0}, std::memory_order_release);
      t.join();
    }
  } join{producer, ready, left};

  std::uint64_t taken = 0, cancelled = 0, left_in_slot = 0, both_taken = 0, both_cancelled = 0;
  std::uint64_t leaks = 0, wrong = 0, rounds = 0;
  const auto started = std::chrono::steady_clock::now();
  for (std::uint64_t i = 1; i <= kRounds; ++i) {
    if (i > kMinRounds && std::chrono::steady_clock::now() - started > kRoundBudget) {
      last.store(i - 1, std::memory_order_relaxed);
      ready.store(i, std::memory_order_release);  // the producer sees round i is not played
      break;
    }
    ++rounds;
    std::stop_source stop;
    current = &stop;
    bool got = false, was_cancelled = false;
    try {
      weft::CancelScope scope(stop.get_token());
      ready.store(i, std::memory_order_release);
      box.take();
      got = true;
    } catch (const weft::CancelledError&) {
      was_cancelled = true;
    }
    if ((wd::pending_interrupts() & wd::kInterruptStop) != 0) ++leaks;
    left.store(i, std::memory_order_release);
    await(acted, i);
    const bool item_left = box.try_take();
    const bool stop_sent = stop.stop_requested();
    taken += got;
    cancelled += was_cancelled;
    left_in_slot += item_left;
    // Exactly one of: taken, or cancelled. Only-item rounds are never cancelled; only-stop
    // rounds always are; a cancelled round leaves an item if one was put.
    if (got == was_cancelled || (was_cancelled && !stop_sent) || (got && item_left)) ++wrong;
    if (stop_sent && got) ++both_taken;
    if (stop_sent && was_cancelled && item_left) ++both_cancelled;
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(leaks, 0u) << "a stop leaked out of its scope";
  EXPECT_EQ(taken + cancelled, rounds);
  EXPECT_EQ(items_put, taken + left_in_slot) << "an item was lost or taken twice";
  EXPECT_GT(both_cancelled, 0u) << "no item ever stayed queued after a cancel";
  for (int a = 1; a <= kActions; ++a) EXPECT_EQ(actions_seen[a], 1) << a;
  std::printf("rounds %llu: taken %llu, cancelled %llu (item left %llu); item and stop: "
              "taken %llu, cancelled with the item left %llu\n",
              static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(taken),
              static_cast<unsigned long long>(cancelled),
              static_cast<unsigned long long>(left_in_slot),
              static_cast<unsigned long long>(both_taken),
              static_cast<unsigned long long>(both_cancelled));
}

}  // namespace
