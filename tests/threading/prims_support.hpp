// SPDX-License-Identifier: Apache-2.0
// Helpers for the primitive tests: a group of std::threads whose parking can be observed.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "support/blocking.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::testing {

// Starts n threads running fn(i); remembers their idents so a test can wait until they
// are parked, and counts how many have returned.
class Bunch {
 public:
  Bunch(std::size_t n, std::function<void(std::size_t)> fn) : idents_(n) {
    threads_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      threads_.emplace_back([this, i, fn] {
        idents_[i].store(weft::detail::current_ident());
        started_.fetch_add(1);
        fn(i);
        done_.fetch_add(1);
      });
    }
  }
  ~Bunch() { join(); }
  Bunch(const Bunch&) = delete;
  Bunch& operator=(const Bunch&) = delete;

  void wait_started() const {
    while (started_.load() < threads_.size()) std::this_thread::yield();
  }
  // Waits until `count` of the threads that have not returned are parked; false after
  // 60 s. Check it with EXPECT, not ASSERT, unless a guard releases the threads: an
  // early return makes ~Bunch join threads that are still blocked (a hang).
  bool wait_parked(std::size_t count) const {
    wait_started();
    return poll_until([&] { return parked_count() >= count; });
  }
  bool wait_all_parked() const { return wait_parked(threads_.size()); }
  // Waits until `count` of the threads are parked in a wait on `object` (is_parked_in).
  // Use it, not wait_parked, when a thread may park on another object first: a thread
  // parked on a Condition's lock on its way into cond.wait() would miss a notify.
  bool wait_parked_in(const void* object, std::size_t count) const {
    wait_started();
    auto in_object = [object](std::uint64_t id) { return is_parked_in(id, object); };
    return poll_until([&] { return count_threads(in_object) >= count; });
  }
  bool wait_all_parked_in(const void* object) const { return wait_parked_in(object, threads_.size()); }
  std::size_t parked_count() const { return count_threads(is_parked); }
  // Waits until at least `count` threads have returned from fn; false after 60 s.
  [[nodiscard]] bool wait_done(std::size_t count) const {
    return poll_until([&] { return done_.load() >= count; });
  }
  std::size_t done() const { return done_.load(); }
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  template <class Pred>
  std::size_t count_threads(Pred&& pred) const {
    std::size_t n = 0;
    for (const auto& id : idents_) n += pred(id.load()) ? 1 : 0;
    return n;
  }

  std::vector<std::atomic<std::uint64_t>> idents_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> started_{0};
  std::atomic<std::size_t> done_{0};
};

// Elapsed time of fn(), for "waited at least the timeout" checks.
template <class F>
std::chrono::steady_clock::duration time_of(F&& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::steady_clock::now() - start;
}

}  // namespace weft::testing
