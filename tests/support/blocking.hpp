// SPDX-License-Identifier: Apache-2.0
// Test support: prove that a call really blocked until something else happened.
//
// expect_blocks_until(block_fn, trigger_fn) runs block_fn on the calling thread. A
// helper thread waits until the caller is parked in weft's parking lot (so it really
// blocked, no sleep involved), then runs trigger_fn. block_fn must not return before
// trigger_fn has finished; if it does, the test fails. (The idea of CPython's
// BlockingTestMixin, without its sleep.)
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "weft/detail/parking_lot.hpp"

namespace weft::testing {

// True when the thread with this ident is parked right now.
inline bool is_parked(std::uint64_t ident) {
  bool parked = false;
  weft::detail::for_each_parked([&](const weft::detail::ParkedThread& t) {
    if (t.ident == ident) parked = true;
  });
  return parked;
}

// Polls (yielding) until the thread is parked; false after `limit`.
inline bool wait_until_parked(std::uint64_t ident,
                              std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!is_parked(ident)) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::yield();
  }
  return true;
}

template <class Block, class Trigger>
decltype(auto) expect_blocks_until(Block&& block_fn, Trigger&& trigger_fn) {
  std::atomic<bool> triggered{false};
  std::atomic<bool> parked_seen{false};
  const std::uint64_t me = weft::detail::current_ident();
  std::thread helper([&] {
    parked_seen = wait_until_parked(me);
    // Marked before the trigger runs: once it runs, block_fn may return at any moment.
    triggered.store(true, std::memory_order_release);
    trigger_fn();
  });
  struct Joiner {
    std::thread& t;
    ~Joiner() { t.join(); }
  } joiner{helper};
  if constexpr (std::is_void_v<decltype(block_fn())>) {
    block_fn();
    EXPECT_TRUE(triggered.load(std::memory_order_acquire))
        << "the call returned before its trigger ran: it did not block";
    EXPECT_TRUE(parked_seen.load()) << "the call never parked";
  } else {
    auto result = block_fn();
    EXPECT_TRUE(triggered.load(std::memory_order_acquire))
        << "the call returned before its trigger ran: it did not block";
    EXPECT_TRUE(parked_seen.load()) << "the call never parked";
    return result;
  }
}

// Runs body() on the calling thread. If it has not returned after `bound` (far beyond
// what a correct body needs), a guard thread calls rescue(), which must make body
// return (release what it waits for), so that a broken call fails the test instead of
// hanging it. Returns: true if rescue() had to run.
template <class Body, class Rescue>
bool run_with_rescue(Body&& body, Rescue&& rescue,
                     std::chrono::milliseconds bound = std::chrono::seconds(20)) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  bool rescued = false;
  std::thread guard([&] {
    std::unique_lock lk(m);
    if (!cv.wait_for(lk, bound, [&] { return done; })) {
      rescued = true;
      lk.unlock();
      rescue();
    }
  });
  struct Finish {
    std::mutex& m;
    std::condition_variable& cv;
    bool& done;
    std::thread& guard;
    ~Finish() {
      {
        std::scoped_lock lk(m);
        done = true;
      }
      cv.notify_all();
      guard.join();
    }
  } finish{m, cv, done, guard};
  body();
  return rescued;
}

}  // namespace weft::testing
