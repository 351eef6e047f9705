// SPDX-License-Identifier: Apache-2.0
// The examples from the class comments of rlock.hpp, condition.hpp, semaphore.hpp,
// event.hpp and barrier.hpp, copied verbatim into test bodies so they keep compiling
// and doing what they say.
#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "weft/barrier.hpp"
#include "weft/condition.hpp"
#include "weft/errors.hpp"
#include "weft/event.hpp"
#include "weft/rlock.hpp"
#include "weft/semaphore.hpp"

TEST(DocExamples, RLock) {
  weft::RLock lock;  int total = 0;
  auto add = [&](int x) { std::scoped_lock hold(lock); total += x; };
  auto add_twice = [&](int x) { std::scoped_lock hold(lock); add(x); add(x); };  // re-enters
  add_twice(21);
  EXPECT_EQ(total, 42);
}

TEST(DocExamples, Condition) {
  weft::Condition cv;  std::deque<int> items;
  { std::scoped_lock hold(cv); items.push_back(1); cv.notify(); }      // producer
  { std::scoped_lock hold(cv); cv.wait_for([&] { return !items.empty(); }); }
  EXPECT_EQ(items.size(), 1u);
}

TEST(DocExamples, Semaphore) {
  weft::Semaphore slots(3);                       // at most 3 downloads at once
  auto download = [&](int id) { std::scoped_lock hold(slots); return id; };
  download(1);
  EXPECT_TRUE(slots.acquire(false));
}

TEST(DocExamples, BoundedSemaphore) {
  weft::BoundedSemaphore pool(2);
  pool.acquire(); pool.release();
  EXPECT_THROW(pool.release(), weft::ValueError);  // "would throw ValueError"
}

TEST(DocExamples, Event) {
  weft::Event ready;  std::string config;
  std::thread loader([&] { config = "loaded"; ready.set(); });
  struct Joiner {  // the throw below must not leave `loader` joinable (std::terminate)
    std::thread& t;
    ~Joiner() { t.join(); }
  } joiner{loader};
  if (!ready.wait(std::chrono::seconds(60))) throw std::runtime_error("no config");
  EXPECT_EQ(config, "loaded");
}

TEST(DocExamples, Barrier) {
  weft::Barrier phase(3, [] { std::puts("round done"); });
  std::vector<std::thread> team;
  for (int i = 0; i < 3; ++i) team.emplace_back([&] { phase.wait(); phase.wait(); });
  for (auto& t : team) t.join();                    // prints "round done" twice
  EXPECT_FALSE(phase.broken());
}
