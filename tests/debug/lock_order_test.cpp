// SPDX-License-Identifier: Apache-2.0
// Lock-order checking: deliberate inversions (that never deadlock, because the threads
// run one after the other) are reported once with the right sites; correct orders,
// tries and re-entry never are.
#include <memory>
#include <optional>
#include <vector>

#include "debug_fixture.hpp"
#include "weft/errors.hpp"
#include "weft/lock.hpp"

namespace weft::testing {
namespace {

constexpr const char* kLockOrderFile = "lock_order_test.cpp";

using LockOrder = DebugTest;

TEST_F(LockOrder, TwoLockInversionIsReportedOnceWithBothSites) {
  lock_order();
  Lock a("A"), b("B");
  unsigned a1 = 0, b1 = 0, b2 = 0, a2 = 0;
  on_thread("T1", [&] {
    a1 = __LINE__; a.acquire();
    b1 = __LINE__; b.acquire();
    b.release();
    a.release();
  });
  EXPECT_TRUE(reports("lock-order").empty());
  on_thread("T2", [&] {
    b2 = __LINE__; b.acquire();
    a2 = __LINE__; a.acquire();
    a.release();
    b.release();
  });
  // The same inversion again, from both sides: still one report.
  for (int i = 0; i < 3; ++i) {
    on_thread("T3", [&] {
      b.acquire();
      a.acquire();
      a.release();
      b.release();
      a.acquire();
      b.acquire();
      b.release();
      a.release();
    });
  }
  const auto r = reports("lock-order");
  ASSERT_EQ(r.size(), 1u);
  const std::string& text = r[0];
  EXPECT_TRUE(contains(text, "Lock \"A\"")) << text;
  EXPECT_TRUE(contains(text, "Lock \"B\"")) << text;
  EXPECT_TRUE(contains(text, "\"T1\"")) << text;
  EXPECT_TRUE(contains(text, "\"T2\"")) << text;
  // T2 acquires A at a2 while holding B from b2; earlier T1 acquired B at b1 holding A (a1).
  EXPECT_TRUE(contains(text, "acquires Lock \"A\" at " + site(kLockOrderFile, a2))) << text;
  EXPECT_TRUE(contains(text, "holding Lock \"B\" (acquired at " + site(kLockOrderFile, b2))) << text;
  EXPECT_TRUE(contains(text, "acquired Lock \"B\" at " + site(kLockOrderFile, b1))) << text;
  EXPECT_TRUE(contains(text, "holding Lock \"A\" (acquired at " + site(kLockOrderFile, a1))) << text;
}

TEST_F(LockOrder, ThreeLockInversionIsReportedOnce) {
  lock_order();
  Lock a("A"), b("B"), c("C");
  unsigned ab = 0, bc = 0, ca = 0;
  auto pair = [](Lock& first, Lock& second, unsigned* line) {
    first.acquire();
    *line = __LINE__; second.acquire();
    second.release();
    first.release();
  };
  on_thread("T1", [&] { pair(a, b, &ab); });
  on_thread("T2", [&] { pair(b, c, &bc); });
  EXPECT_TRUE(reports("lock-order").empty());
  on_thread("T3", [&] { pair(c, a, &ca); });
  on_thread("T3", [&] { pair(c, a, &ca); });
  const auto r = reports("lock-order");
  ASSERT_EQ(r.size(), 1u);
  const std::string& text = r[0];
  for (const char* name : {"\"T1\"", "\"T2\"", "\"T3\"", "Lock \"A\"", "Lock \"B\"", "Lock \"C\""})
    EXPECT_TRUE(contains(text, name)) << name << "\n" << text;
  EXPECT_TRUE(contains(text, "acquires Lock \"A\" at " + site(kLockOrderFile, ca))) << text;
  EXPECT_TRUE(contains(text, "cycle: Lock \"C\" -> Lock \"A\" -> Lock \"B\" -> Lock \"C\""))
      << text;
}

TEST_F(LockOrder, ConsistentOrdersAreNeverReported) {
  lock_order();
  Lock a("A"), b("B"), c("C");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        std::scoped_lock all(a, b, c);  // std::lock's try-and-back-off adds no edge
      }
      for (int i = 0; i < 200; ++i) {
        a.acquire();
        b.acquire();
        c.acquire();
        c.release();
        b.release();
        b.acquire();
        b.release();
        a.release();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(reports("lock-order").empty());
}

TEST_F(LockOrder, TryAcquireAddsNoEdge) {
  lock_order();
  Lock a("A"), b("B");
  on_thread("T1", [&] {
    a.acquire();
    EXPECT_TRUE(b.acquire(false));  // a try: cannot block, so no A -> B edge
    b.release();
    a.release();
  });
  on_thread("T2", [&] {
    b.acquire();
    a.acquire();  // B -> A: no cycle, since A -> B was never recorded
    a.release();
    b.release();
  });
  EXPECT_TRUE(reports("lock-order").empty());
}

TEST_F(LockOrder, LockHeldByATryStillOrdersLaterAcquisitions) {
  lock_order();
  Lock a("A"), b("B");
  on_thread("T1", [&] {
    EXPECT_TRUE(a.acquire(false));
    b.acquire();  // A (held by a try) -> B
    b.release();
    a.release();
  });
  on_thread("T2", [&] {
    b.acquire();
    a.acquire();
    a.release();
    b.release();
  });
  EXPECT_EQ(reports("lock-order").size(), 1u);
}

TEST_F(LockOrder, ReentryIsNoInversion) {
  lock_order();
  // An RLock as the tools see it: the same object acquired again by its owner.
  int r = 0;
  Lock outer("outer");
  using detail::ObjKind;
  namespace hooks = detail::hooks;
  on_thread("T1", [&] {
    hooks::before_acquire(&r, ObjKind::rlock, detail::SourceLoc::current());
    hooks::after_acquire(&r, ObjKind::rlock, detail::SourceLoc::current(), false);
    outer.acquire();
    hooks::before_acquire(&r, ObjKind::rlock, detail::SourceLoc::current());  // re-entry
    hooks::after_acquire(&r, ObjKind::rlock, detail::SourceLoc::current(), false);
    hooks::after_release(&r, ObjKind::rlock);
    outer.release();
    hooks::after_release(&r, ObjKind::rlock);
  });
  EXPECT_TRUE(reports("lock-order").empty());
  hooks::object_destroyed(&r);
}

TEST_F(LockOrder, ThrowModeThrowsBeforeBlockingAndDoesNotAcquire) {
  lock_order(debug::Mode::throw_error);
  Lock a("A"), b("B");
  on_thread("T1", [&] {
    a.acquire();
    b.acquire();
    b.release();
    a.release();
  });
  bool threw = false;
  on_thread("T2", [&] {
    b.acquire();
    try {
      a.acquire();
    } catch (const LockOrderError& e) {
      threw = true;
      EXPECT_TRUE(contains(e.what(), "lock-order inversion")) << e.what();
    }
    EXPECT_FALSE(a.locked());  // not acquired
    b.release();
  });
  EXPECT_TRUE(threw);
  EXPECT_EQ(reports("lock-order").size(), 1u);
  // Both locks still work.
  a.acquire();
  b.acquire();
  b.release();
  a.release();
}

TEST_F(LockOrder, LockReleasedByAnotherThreadIsNoLongerHeld) {
  lock_order();
  Lock a("A"), b("B");
  a.acquire();
  std::thread([&] { a.release(); }).join();  // Python allows it
  on_thread("T1", [&] {
    b.acquire();
    a.acquire();
    a.release();
    b.release();
  });
  b.acquire();  // main no longer holds A: no A -> B edge, no report
  b.release();
  EXPECT_TRUE(reports("lock-order").empty());
}

TEST_F(LockOrder, DestroyedLocksAreForgotten) {
  lock_order();
  std::optional<Lock> a, b;
  a.emplace("A");
  b.emplace("B");
  on_thread("T1", [&] {
    a->acquire();
    b->acquire();
    b->release();
    a->release();
  });
  // New locks at the same addresses, used in the other order: no inversion.
  a.reset();
  b.reset();
  a.emplace("A2");
  b.emplace("B2");
  on_thread("T2", [&] {
    b->acquire();
    a->acquire();
    a->release();
    b->release();
  });
  EXPECT_TRUE(reports("lock-order").empty());
}

TEST_F(LockOrder, ManyDistinctLocksStayFast) {
  lock_order();
  // Like Abseil's detector stress test: 1<<17 locks, each taken with its next four.
  constexpr int kLocks = 1 << 17;
  auto locks = std::make_unique<Lock[]>(kLocks);
  for (int i = 0; i < kLocks; ++i) {
    const int end = std::min(kLocks, i + 5);
    for (int j = i; j < end; ++j) locks[j].acquire();
    for (int j = i; j < end; ++j) locks[j].release();
  }
  locks.reset();
  EXPECT_TRUE(reports("lock-order").empty());
}

// Runs in the death-test child: an inversion in abort mode.
void invert_in_abort_mode() {
  debug::Options o;
  o.lock_order = true;
  o.lock_order_mode = debug::Mode::abort;
  debug::enable(o);
  debug::set_lock_order_mode(debug::Mode::abort);
  Lock a("A");
  Lock b("B");
  std::thread([&] {
    a.acquire();
    b.acquire();
    b.release();
    a.release();
  }).join();
  b.acquire();
  a.acquire();
}

TEST(LockOrderDeath, AbortModeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(invert_in_abort_mode(), "lock-order inversion");
}

}  // namespace
}  // namespace weft::testing
