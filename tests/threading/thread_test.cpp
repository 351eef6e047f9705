// SPDX-License-Identifier: Apache-2.0
// Thread: construction, start/join/is_alive, names, daemon flag, idents, misuse,
// destructor behaviour.
#include "weft/thread.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "support/blocking.hpp"
#include "weft/errors.hpp"
#include "weft/lock.hpp"

using namespace std::chrono_literals;

namespace {

TEST(Thread, RunsTargetWithArguments) {
  int seen = 0;
  std::string text;
  weft::Thread t([&](int a, const std::string& s) { seen = a; text = s; }, 42, std::string("hi"));
  t.start();
  t.join();
  EXPECT_EQ(seen, 42);
  EXPECT_EQ(text, "hi");
}

TEST(Thread, ArgumentsAreDecayedCopies) {
  int value = 1;
  int result = 0;
  weft::Thread t([&result](int v) { result = v; }, value);
  value = 2;  // the thread got its own copy at construction
  t.start();
  t.join();
  EXPECT_EQ(result, 1);
}

TEST(Thread, MoveOnlyArgumentsAndTarget) {
  auto p = std::make_unique<int>(7);
  int got = 0;
  weft::Thread t([&got](std::unique_ptr<int> q) { got = *q; }, std::move(p));
  t.start();
  t.join();
  EXPECT_EQ(got, 7);

  auto owned = std::make_unique<int>(9);
  weft::Thread u([q = std::move(owned), &got]() { got = *q; });
  u.start();
  u.join();
  EXPECT_EQ(got, 9);
}

TEST(Thread, PlainFunctionTarget) {
  static std::atomic<int> hits{0};
  struct F {
    static void bump(int n) { hits += n; }
  };
  hits = 0;
  weft::Thread t(&F::bump, 3);
  t.start();
  t.join();
  EXPECT_EQ(hits.load(), 3);
}

TEST(Thread, DefaultRunDoesNothing) {
  weft::Thread t;
  t.start();
  t.join();
  EXPECT_FALSE(t.is_alive());
}

class Counter : public weft::Thread {
 public:
  int runs = 0;
  void run() override { ++runs; }
  ~Counter() override {
    if (is_alive()) join();
  }
};

TEST(Thread, SubclassOverridesRun) {
  Counter c;
  c.start();
  c.join();
  EXPECT_EQ(c.runs, 1);
}

TEST(Thread, RunCalledDirectlyRunsTargetOnce) {
  int calls = 0;
  weft::Thread t([&] { ++calls; });
  t.run();  // Python: calling run() runs the target on the calling thread...
  t.run();  // ...and drops it afterwards
  EXPECT_EQ(calls, 1);
}

TEST(Thread, StartTwiceThrows) {
  weft::Thread t([] {});
  t.start();
  try {
    t.start();
    FAIL() << "second start() did not throw";
  } catch (const weft::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "threads can only be started once");
  }
  t.join();
  EXPECT_THROW(t.start(), weft::RuntimeError);  // also after it finished
}

TEST(Thread, JoinBeforeStartThrows) {
  weft::Thread t([] {});
  try {
    t.join();
    FAIL() << "join() before start() did not throw";
  } catch (const weft::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot join thread before it is started");
  }
  EXPECT_THROW((void)t.join(10ms), weft::RuntimeError);
}

TEST(Thread, JoinItselfThrows) {
  std::string message;
  weft::Thread* self = nullptr;
  weft::Thread t([&] {
    try {
      self->join();
    } catch (const weft::RuntimeError& e) {
      message = e.what();
    }
  });
  self = &t;
  t.start();
  t.join();
  EXPECT_EQ(message, "cannot join current thread");
}

TEST(Thread, JoinBlocksUntilTheThreadEnds) {
  weft::Lock gate;
  gate.acquire();
  std::atomic<bool> done{false};
  weft::Thread t([&] {
    gate.acquire();
    gate.release();
    done = true;
  });
  t.start();
  weft::testing::expect_blocks_until([&] { t.join(); }, [&] { gate.release(); });
  EXPECT_TRUE(done.load());
  EXPECT_FALSE(t.is_alive());
}

TEST(Thread, TimedJoinReturnsFalseWhileRunningTrueAfter) {
  weft::Lock gate;
  gate.acquire();
  weft::Thread t([&] {
    gate.acquire();
    gate.release();
  });
  t.start();
  EXPECT_FALSE(t.join(0s));
  EXPECT_FALSE(t.join(-5ms));
  const auto begin = std::chrono::steady_clock::now();
  EXPECT_FALSE(t.join(20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 20ms);
  EXPECT_TRUE(t.is_alive());
  const bool finished = weft::testing::expect_blocks_until([&] { return t.join(1h); },
                                                          [&] { gate.release(); });
  EXPECT_TRUE(finished);
  EXPECT_TRUE(t.join(0s));
  t.join();  // joining a finished thread again is fine
}

TEST(Thread, IsAliveFollowsTheLifecycle) {
  weft::Lock gate;
  gate.acquire();
  weft::Thread t([&] {
    gate.acquire();
    gate.release();
  });
  EXPECT_FALSE(t.is_alive());
  t.start();
  EXPECT_TRUE(t.is_alive());  // start() returns once the thread runs
  gate.release();
  t.join();
  EXPECT_FALSE(t.is_alive());
}

TEST(Thread, DefaultNamesCountUp) {
  weft::Thread a([] {});
  weft::Thread b([] {});
  const std::string na = a.name(), nb = b.name();
  ASSERT_EQ(na.rfind("Thread-", 0), 0u) << na;
  ASSERT_EQ(nb.rfind("Thread-", 0), 0u) << nb;
  EXPECT_GT(std::stoul(nb.substr(7)), std::stoul(na.substr(7)));
  EXPECT_GE(std::stoul(na.substr(7)), 1u);
}

TEST(Thread, NamesFromOptionsAndSetName) {
  weft::Thread t(weft::ThreadOptions{"worker", false}, [] {});
  EXPECT_EQ(t.name(), "worker");
  t.set_name("renamed");
  EXPECT_EQ(t.name(), "renamed");
  std::string inside;
  weft::Thread u(weft::ThreadOptions{"inner", false}, [&] { inside = weft::current_thread().name(); });
  u.start();
  u.set_name("inner");  // renaming a running thread is allowed, as in Python
  u.join();
  EXPECT_EQ(inside, "inner");
}

TEST(Thread, EmptyOptionNameMeansDefault) {
  weft::Thread t(weft::ThreadOptions{}, [] {});
  EXPECT_EQ(t.name().rfind("Thread-", 0), 0u);
}

TEST(Thread, DaemonFlag) {
  weft::Thread t([] {});
  EXPECT_FALSE(t.daemon());  // created by the main thread
  t.set_daemon(true);
  EXPECT_TRUE(t.daemon());
  t.set_daemon(false);
  EXPECT_FALSE(t.daemon());
  weft::Thread d(weft::ThreadOptions{"d", true}, [] {});
  EXPECT_TRUE(d.daemon());
}

TEST(Thread, SetDaemonAfterStartThrows) {
  weft::Thread t([] {});
  t.start();
  try {
    t.set_daemon(true);
    FAIL() << "set_daemon after start did not throw";
  } catch (const weft::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot set daemon status of active thread");
  }
  t.join();
  EXPECT_THROW(t.set_daemon(true), weft::RuntimeError);
  EXPECT_FALSE(t.daemon());
}

TEST(Thread, DaemonIsInheritedFromTheCreatingThread) {
  bool child_daemon = false, child_of_normal = true;
  weft::Thread parent(weft::ThreadOptions{"parent", true}, [&] {
    weft::Thread child([] {});
    child_daemon = child.daemon();
  });
  parent.start();
  parent.join();
  EXPECT_TRUE(child_daemon);
  weft::Thread normal([&] {
    weft::Thread child([] {});
    child_of_normal = child.daemon();
  });
  normal.start();
  normal.join();
  EXPECT_FALSE(child_of_normal);
}

TEST(Thread, IdentsAreEmptyUntilStartedAndKeptAfter) {
  std::uint64_t inside_ident = 0, inside_native = 0;
  weft::Thread t([&] {
    inside_ident = weft::get_ident();
    inside_native = weft::get_native_id();
  });
  EXPECT_FALSE(t.ident().has_value());
  EXPECT_FALSE(t.native_id().has_value());
  t.start();
  ASSERT_TRUE(t.ident().has_value());
  ASSERT_TRUE(t.native_id().has_value());
  t.join();
  EXPECT_EQ(*t.ident(), inside_ident);
  EXPECT_EQ(*t.native_id(), inside_native);
  EXPECT_NE(*t.ident(), weft::get_ident());
  EXPECT_NE(*t.native_id(), weft::get_native_id());
}

TEST(Thread, DestructorJoinsARunningNonDaemonThread) {
  weft::Lock gate;
  gate.acquire();
  std::atomic<bool> done{false};
  auto t = std::make_unique<weft::Thread>([&] {
    gate.acquire();
    gate.release();
    done = true;
  });
  t->start();
  weft::testing::expect_blocks_until([&] { t.reset(); }, [&] { gate.release(); });
  EXPECT_TRUE(done.load());
}

TEST(Thread, DestructorDetachesARunningDaemonThread) {
  weft::Lock gate;
  gate.acquire();
  auto finished = std::make_shared<weft::Lock>();  // held until the daemon ends
  finished->acquire();
  std::string name_after;
  {
    weft::Thread t(weft::ThreadOptions{"detached", true}, [&gate, finished, &name_after] {
      gate.acquire();
      gate.release();
      // The Thread object is gone: current_thread() still works and keeps the name.
      name_after = weft::current_thread().name();
      finished->release();
    });
    t.start();
  }  // returns at once: the daemon is still blocked on `gate`
  gate.release();
  finished->acquire();  // wait (parked) until the daemon is done with name_after
  EXPECT_EQ(name_after, "detached");
}

TEST(Thread, DestroyingAThreadThatNeverStartedIsFine) {
  auto t = std::make_unique<weft::Thread>([] { FAIL() << "never started"; });
  t.reset();
  SUCCEED();
}

TEST(Thread, JoinFromManyThreads) {
  weft::Lock gate;
  gate.acquire();
  weft::Thread t([&] {
    gate.acquire();
    gate.release();
  });
  t.start();
  std::atomic<int> joined{0};
  weft::Thread j1([&] { t.join(); ++joined; });
  weft::Thread j2([&] { t.join(); ++joined; });
  j1.start();
  j2.start();
  gate.release();
  j1.join();
  j2.join();
  EXPECT_EQ(joined.load(), 2);
}

}  // namespace
