// SPDX-License-Identifier: Apache-2.0
// Threads in containers: weft::Thread is neither copyable nor movable (its running
// thread shares the object), so the containers that construct in place and never
// relocate their elements hold it; std::vector<weft::Thread> is rejected with a
// message (tests/threading/compile_fail/vector_of_threads.cpp).
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <list>
#include <memory>
#include <vector>

#include "weft/thread.hpp"
#include "weft/timer.hpp"

namespace {

static_assert(!std::is_copy_constructible_v<weft::Thread>);
static_assert(!std::is_copy_assignable_v<weft::Thread>);
static_assert(!std::is_nothrow_move_constructible_v<weft::Thread>);

TEST(ThreadContainers, DequeListAndUniquePtrHoldRunningThreads) {
  std::atomic<int> ran{0};
  auto work = [&ran](int n) { ran += n; };
  std::deque<weft::Thread> deque;
  std::list<weft::Thread> list;
  std::vector<std::unique_ptr<weft::Thread>> owned;
  for (int i = 0; i < 4; ++i) {
    deque.emplace_back(work, 1);
    deque.back().start();  // growing the deque keeps started threads where they are
    list.emplace_back(work, 10);
    list.back().start();
    owned.push_back(std::make_unique<weft::Thread>(work, 100));
    owned.back()->start();
  }
  for (auto& t : deque) t.join();
  for (auto& t : list) t.join();
  for (auto& t : owned) t->join();
  EXPECT_EQ(ran.load(), 444);
}

TEST(ThreadContainers, DequeOfTimers) {
  std::atomic<int> fired{0};
  std::deque<weft::Timer> timers;
  for (int i = 0; i < 3; ++i) {
    timers.emplace_back(std::chrono::milliseconds(0), [&fired] { ++fired; });
    timers.back().start();
  }
  for (auto& t : timers) t.join();
  EXPECT_EQ(fired.load(), 3);
}

}  // namespace
