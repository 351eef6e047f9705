// SPDX-License-Identifier: Apache-2.0
// Every blocked call parks with a WaitSite naming the object, its kind and the caller's
// file:line, which is what the debug tools (thread dump, wait-for graph) show.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>

#include "support/blocking.hpp"
#include "weft/barrier.hpp"
#include "weft/condition.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/event.hpp"
#include "weft/lock.hpp"
#include "weft/rlock.hpp"
#include "weft/semaphore.hpp"

using namespace std::chrono_literals;

namespace {

// Runs block() in a thread, waits until that thread is parked, returns its WaitSite,
// then runs unblock() and joins.
std::optional<weft::detail::WaitSite> site_of(const std::function<void()>& block,
                                              const std::function<void()>& unblock) {
  std::atomic<std::uint64_t> ident{0};
  std::thread t([&] {
    ident = weft::detail::current_ident();
    block();
  });
  while (ident.load() == 0) std::this_thread::yield();
  std::optional<weft::detail::WaitSite> site;
  weft::testing::poll_until([&] { return (site = weft::testing::parked_site(ident.load())).has_value(); });
  unblock();
  t.join();
  return site;
}

void expect_site(const std::optional<weft::detail::WaitSite>& site, const void* object,
                 weft::detail::ObjKind kind, unsigned line) {
  ASSERT_TRUE(site.has_value()) << "the thread never parked";
  EXPECT_EQ(site->object, object);
  EXPECT_EQ(site->kind, kind);
  EXPECT_STREQ(site->loc.file, __FILE__);
  EXPECT_EQ(site->loc.line, line);
}

}  // namespace

TEST(WaitSite, RLock) {
  weft::RLock lock;
  std::atomic<bool> held{false}, go{false};
  std::thread owner([&] {
    lock.acquire();
    held = true;
    while (!go.load()) std::this_thread::yield();
    lock.release();
  });
  while (!held.load()) std::this_thread::yield();
  unsigned line = 0;
  const auto site = site_of(
      [&] {
        line = __LINE__ + 1;
        lock.acquire();
        lock.release();
      },
      [&] {
        go = true;
        owner.join();
      });
  expect_site(site, &lock, weft::detail::ObjKind::rlock, line);
}

TEST(WaitSite, ConditionWait) {
  weft::Condition cond;
  unsigned line = 0;
  std::atomic<bool> notified{false};
  const auto site = site_of(
      [&] {
        cond.acquire();
        line = __LINE__ + 1;
        while (!notified.load()) cond.wait(1h);
        cond.release();
      },
      [&] {
        cond.acquire();
        notified = true;
        cond.notify();
        cond.release();
      });
  expect_site(site, &cond, weft::detail::ObjKind::condition, line);
}

TEST(WaitSite, Semaphore) {
  weft::Semaphore sem(0);
  unsigned line = 0;
  const auto site = site_of(
      [&] {
        line = __LINE__ + 1;
        sem.acquire();
      },
      [&] { sem.release(); });
  expect_site(site, &sem, weft::detail::ObjKind::semaphore, line);
}

TEST(WaitSite, Event) {
  weft::Event event;
  unsigned line = 0;
  const auto site = site_of(
      [&] {
        line = __LINE__ + 1;
        event.wait();
      },
      [&] { event.set(); });
  expect_site(site, &event, weft::detail::ObjKind::event, line);
}

TEST(WaitSite, Barrier) {
  weft::Barrier barrier(2);
  unsigned line = 0;
  const auto site = site_of(
      [&] {
        line = __LINE__ + 1;
        barrier.wait();
      },
      [&] { barrier.wait(); });
  expect_site(site, &barrier, weft::detail::ObjKind::barrier, line);
}

TEST(WaitSite, Lock) {
  weft::Lock lock;
  lock.acquire();
  unsigned line = 0;
  const auto site = site_of(
      [&] {
        line = __LINE__ + 1;
        lock.acquire();
        lock.release();
      },
      [&] { lock.release(); });
  expect_site(site, &lock, weft::detail::ObjKind::lock, line);
}
