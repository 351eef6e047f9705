// SPDX-License-Identifier: Apache-2.0
// The module functions: current_thread, main_thread, active_count, enumerate,
// get_ident, get_native_id, dummy entries, and the registry the debug tools read.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "support/blocking.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/thread_registry.hpp"
#include "weft/errors.hpp"
#include "weft/lock.hpp"
#include "weft/thread.hpp"

namespace {

bool contains(const std::vector<weft::Thread*>& v, const weft::Thread* t) {
  return std::find(v.begin(), v.end(), t) != v.end();
}

TEST(Module, MainThreadIsNamedAndCurrentOnTheTestThread) {
  weft::Thread& m = weft::main_thread();
  EXPECT_EQ(m.name(), "MainThread");
  EXPECT_EQ(&weft::current_thread(), &m);  // gtest runs tests on the main thread
  EXPECT_TRUE(m.is_alive());
  EXPECT_FALSE(m.daemon());
  EXPECT_EQ(m.ident(), weft::get_ident());
  EXPECT_EQ(m.native_id(), weft::get_native_id());
}

TEST(Module, MainThreadMisuse) {
  weft::Thread& m = weft::main_thread();
  EXPECT_THROW(m.start(), weft::RuntimeError);
  EXPECT_THROW(m.join(), weft::RuntimeError);  // joining itself
  EXPECT_THROW(m.set_daemon(true), weft::RuntimeError);
}

TEST(Module, CurrentThreadInsideAWeftThreadIsItsObject) {
  weft::Thread* seen = nullptr;
  weft::Thread t([&] { seen = &weft::current_thread(); });
  t.start();
  t.join();
  EXPECT_EQ(seen, &t);
}

TEST(Module, GetIdentIsPthreadSelfAndMatchesTheParkingLot) {
  EXPECT_EQ(weft::get_ident(), static_cast<std::uint64_t>(pthread_self()));
  EXPECT_EQ(weft::get_ident(), weft::detail::current_ident());
  EXPECT_EQ(weft::get_native_id(), static_cast<std::uint64_t>(::syscall(SYS_gettid)));
  std::uint64_t a = 0, b = 0;
  weft::Thread t([&] {
    a = weft::get_ident();
    b = weft::detail::current_ident();
  });
  t.start();
  t.join();
  EXPECT_EQ(a, b);
}

TEST(Module, ForeignThreadGetsADummyEntry) {
  std::string name;
  bool daemon = false, alive = false, same = false, listed = false;
  std::size_t count_inside = 0;
  std::string join_error;
  const std::size_t before = weft::active_count();
  std::thread foreign([&] {
    weft::Thread& me = weft::current_thread();
    name = me.name();
    daemon = me.daemon();
    alive = me.is_alive();
    same = &weft::current_thread() == &me;
    listed = contains(weft::enumerate(), &me);
    count_inside = weft::active_count();
    EXPECT_EQ(me.ident(), weft::get_ident());
    try {
      me.join();
    } catch (const weft::RuntimeError& e) {
      join_error = e.what();
    }
  });
  foreign.join();
  EXPECT_EQ(name.rfind("Dummy-", 0), 0u) << name;
  EXPECT_TRUE(daemon);
  EXPECT_TRUE(alive);
  EXPECT_TRUE(same);
  EXPECT_TRUE(listed);
  EXPECT_EQ(count_inside, before + 1);
  EXPECT_EQ(join_error, "cannot join current thread");
  EXPECT_EQ(weft::active_count(), before);  // dropped when the foreign thread exited
}

TEST(Module, JoiningADummyFromAnotherThreadThrows) {
  weft::Lock gate, ready;
  gate.acquire();
  ready.acquire();
  weft::Thread* dummy = nullptr;
  std::thread foreign([&] {
    dummy = &weft::current_thread();
    ready.release();
    gate.acquire();
    gate.release();
  });
  ready.acquire();
  EXPECT_THROW(dummy->join(), weft::RuntimeError);
  gate.release();
  foreign.join();
}

TEST(Module, EnumerateAndActiveCountSeeRunningThreads) {
  weft::Lock gate;
  gate.acquire();
  const std::size_t before = weft::active_count();
  weft::Thread a([&] {
    gate.acquire();
    gate.release();
  });
  weft::Thread b([&] {
    gate.acquire();
    gate.release();
  });
  EXPECT_FALSE(contains(weft::enumerate(), &a));  // not started: not listed
  a.start();
  b.start();
  const auto all = weft::enumerate();
  EXPECT_TRUE(contains(all, &a));
  EXPECT_TRUE(contains(all, &b));
  EXPECT_TRUE(contains(all, &weft::main_thread()));
  EXPECT_EQ(weft::active_count(), before + 2);
  EXPECT_EQ(all.size(), weft::active_count());
  gate.release();
  a.join();
  b.join();
  EXPECT_FALSE(contains(weft::enumerate(), &a));  // gone once joined
  EXPECT_EQ(weft::active_count(), before);
}

TEST(Module, ForEachThreadListsWhatTheDebugToolsNeed) {
  weft::Lock gate;
  gate.acquire();
  weft::Thread t(weft::ThreadOptions{"listed", true}, [&] {
    gate.acquire();
    gate.release();
  });
  t.start();
  bool found = false, found_main = false;
  weft::detail::for_each_thread([&](const weft::detail::ThreadInfo& info) {
    if (info.object == &t) {
      found = true;
      EXPECT_EQ(info.name, "listed");
      EXPECT_TRUE(info.daemon);
      EXPECT_TRUE(info.alive);
      EXPECT_EQ(info.ident, *t.ident());
      EXPECT_EQ(info.native_id, *t.native_id());
    }
    if (info.name == "MainThread") found_main = true;
  });
  EXPECT_TRUE(found);
  EXPECT_TRUE(found_main);
  gate.release();
  t.join();
}

TEST(Module, JoinWaitIsVisibleInTheParkingLotAsAThreadWait) {
  weft::Lock gate;
  gate.acquire();
  weft::Thread t([&] {
    gate.acquire();
    gate.release();
  });
  t.start();
  const std::uint64_t me = weft::get_ident();
  bool seen = false;
  weft::testing::expect_blocks_until([&] { t.join(); },
                                     [&] {
                                       const auto site = weft::testing::parked_site(me);
                                       seen = site && site->object == &t &&
                                              site->kind == weft::detail::ObjKind::thread;
                                       gate.release();
                                     });
  EXPECT_TRUE(seen);
}

}  // namespace
