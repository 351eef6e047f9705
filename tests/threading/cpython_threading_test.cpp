// SPDX-License-Identifier: Apache-2.0
// Conformance: behaviours of CPython's Lib/test/test_threading.py (Thread, Timer,
// excepthook parts) and Lib/test/test_threading_local.py, restated in C++ in our own
// words. Python-only concerns (reference cycles, fork, interpreter shutdown
// internals, SystemExit) are left out; the C++ counterpart is noted where it differs.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "weft/errors.hpp"
#include "weft/local.hpp"
#include "weft/lock.hpp"
#include "weft/thread.hpp"
#include "weft/timer.hpp"

using namespace std::chrono_literals;

namespace {

// test_various_ops: many threads, distinct names and idents, all run, none left alive.
TEST(CPythonThreading, VariousOps) {
  constexpr int kThreads = 10;
  std::atomic<int> running{0}, max_running{0}, ran{0};
  weft::Lock limit_lock;
  std::vector<std::unique_ptr<weft::Thread>> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.push_back(std::make_unique<weft::Thread>(
        weft::ThreadOptions{"<thread " + std::to_string(i) + ">", false}, [&] {
          const int now = ++running;
          int seen = max_running.load();
          while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
          }
          ++ran;
          --running;
        }));
    EXPECT_FALSE(threads.back()->ident().has_value());
    EXPECT_FALSE(threads.back()->is_alive());
  }
  for (auto& t : threads) {
    t->start();
    EXPECT_TRUE(t->ident().has_value());
  }
  std::set<std::uint64_t> idents;
  std::set<std::string> names;
  for (auto& t : threads) {
    t->join();
    EXPECT_FALSE(t->is_alive());
    idents.insert(*t->ident());
    names.insert(t->name());
  }
  EXPECT_EQ(ran.load(), kThreads);
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kThreads));
  EXPECT_GE(idents.size(), 1u);  // idents may be reused once a thread has exited
}

// test_ident_of_no_threading_threads: a thread weft did not start gets a dummy whose
// ident is its get_ident().
TEST(CPythonThreading, IdentOfForeignThreads) {
  std::uint64_t ident = 0, expected = 1;
  std::thread t([&] {
    expected = weft::get_ident();
    ident = weft::current_thread().ident().value_or(0);
  });
  t.join();
  EXPECT_EQ(ident, expected);
}

// test_enumerate_after_join: a joined thread is never listed.
TEST(CPythonThreading, EnumerateAfterJoin) {
  for (int i = 0; i < 20; ++i) {
    weft::Thread t([] {});
    t.start();
    t.join();
    const auto all = weft::enumerate();
    EXPECT_EQ(std::find(all.begin(), all.end(), &t), all.end());
  }
}

// test_no_refcycle_through_target (C++ form): the target and its arguments are
// released once run() returns, before join() returns.
TEST(CPythonThreading, TargetAndArgumentsReleasedAfterRun) {
  auto arg = std::make_shared<int>(1);
  auto captured = std::make_shared<int>(2);
  weft::Thread t([captured](std::shared_ptr<int> a) { *a += *captured; }, arg);
  captured.reset();
  t.start();
  t.join();
  EXPECT_EQ(*arg, 3);
  EXPECT_EQ(arg.use_count(), 1);  // the thread's copy is gone
}

// test_main_thread: main_thread() is "MainThread" and the same object everywhere.
TEST(CPythonThreading, MainThreadFromAnotherThread) {
  weft::Thread* from_thread = nullptr;
  std::uint64_t main_ident = 0;
  weft::Thread t([&] {
    from_thread = &weft::main_thread();
    main_ident = weft::main_thread().ident().value_or(0);
  });
  t.start();
  t.join();
  EXPECT_EQ(from_thread, &weft::main_thread());
  EXPECT_EQ(main_ident, weft::get_ident());
  EXPECT_EQ(weft::main_thread().name(), "MainThread");
}

// test_daemon_param / test_default_daemon: explicit flag honoured; default inherited
// from the creating thread (main is not a daemon).
TEST(CPythonThreading, DaemonParamAndDefault) {
  weft::Thread a([] {});
  EXPECT_FALSE(a.daemon());
  weft::Thread b(weft::ThreadOptions{"b", false}, [] {});
  EXPECT_FALSE(b.daemon());
  weft::Thread c(weft::ThreadOptions{"c", true}, [] {});
  EXPECT_TRUE(c.daemon());
}

// test_name / test_set_name: default names follow "Thread-N"; set_name replaces.
TEST(CPythonThreading, Names) {
  weft::Thread t([] {});
  EXPECT_EQ(t.name().substr(0, 7), "Thread-");
  t.set_name("a name");
  EXPECT_EQ(t.name(), "a name");
  weft::Thread u(weft::ThreadOptions{"given", false}, [] {});
  EXPECT_EQ(u.name(), "given");
}

// ThreadingExceptionTests: the RuntimeErrors Python raises.
TEST(CPythonThreading, StartThreadAgain) {
  weft::Thread t([] {});
  t.start();
  EXPECT_THROW(t.start(), weft::RuntimeError);
  t.join();
}

TEST(CPythonThreading, JoiningCurrentThread) {
  EXPECT_THROW(weft::current_thread().join(), weft::RuntimeError);
}

TEST(CPythonThreading, JoiningInactiveThread) {
  weft::Thread t([] {});
  EXPECT_THROW(t.join(), weft::RuntimeError);
}

TEST(CPythonThreading, DaemonizeActiveThread) {
  weft::Lock gate;
  gate.acquire();
  weft::Thread t([&] {
    gate.acquire();
    gate.release();
  });
  t.start();
  EXPECT_THROW(t.set_daemon(true), weft::RuntimeError);
  gate.release();
  t.join();
}

// test_join_nondaemon_on_shutdown is in exit_test.cpp (child processes).

// ExceptHookTests.test_excepthook: stderr names the thread and the exception.
TEST(CPythonThreading, ExcepthookDefaultOutput) {
  ::testing::internal::CaptureStderr();
  weft::Thread t(weft::ThreadOptions{"excepthook thread", false},
                 [] { throw weft::ValueError("bug"); });
  t.start();
  t.join();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Exception in thread excepthook thread:"), std::string::npos) << err;
  EXPECT_NE(err.find("weft::ValueError: bug"), std::string::npos) << err;
}

// test_custom_excepthook: the hook gets type, value and thread.
TEST(CPythonThreading, CustomExcepthook) {
  weft::ExceptHookArgs args{};
  weft::set_excepthook([&](const weft::ExceptHookArgs& a) { args = a; });
  weft::Thread t([] { throw weft::ValueError("bug"); });
  t.start();
  t.join();
  weft::set_excepthook({});
  EXPECT_EQ(args.exc_type, "weft::ValueError");
  EXPECT_EQ(args.what, "bug");
  EXPECT_EQ(args.thread, &t);
}

// test_custom_excepthook_fail: a failing hook is reported as such.
TEST(CPythonThreading, CustomExcepthookFail) {
  weft::set_excepthook([](const weft::ExceptHookArgs&) { throw weft::ValueError("threading_hook failed"); });
  ::testing::internal::CaptureStderr();
  weft::Thread t([] { throw weft::ValueError("bug"); });
  t.start();
  t.join();
  const std::string err = ::testing::internal::GetCapturedStderr();
  weft::set_excepthook({});
  EXPECT_NE(err.find("Exception in threading.excepthook:"), std::string::npos) << err;
  EXPECT_NE(err.find("threading_hook failed"), std::string::npos) << err;
}

// TimerTests.test_init_immutable_default_args: each Timer owns its own arguments.
TEST(CPythonThreading, TimersKeepSeparateArguments) {
  std::vector<int> first, second;
  weft::Timer a(0s, [&](std::vector<int> v) { v.push_back(1); first = v; }, std::vector<int>{});
  weft::Timer b(0s, [&](std::vector<int> v) { v.push_back(2); second = v; }, std::vector<int>{});
  a.start();
  b.start();
  a.join();
  b.join();
  EXPECT_EQ(first, std::vector<int>{1});
  EXPECT_EQ(second, std::vector<int>{2});
}

// Timer runs its function on its own thread, not the caller's.
TEST(CPythonThreading, TimerRunsOnItsThread) {
  std::uint64_t ran_on = 0;
  weft::Timer t(1ms, [&] { ran_on = weft::get_ident(); });
  t.start();
  t.join();
  EXPECT_EQ(ran_on, *t.ident());
  EXPECT_NE(ran_on, weft::get_ident());
}

// test_threading_local.test_local_refs: values die with their threads.
struct Weak {
  static std::atomic<int> alive;
  Weak() { ++alive; }
  ~Weak() { --alive; }
};
std::atomic<int> Weak::alive{0};

TEST(CPythonThreadingLocal, LocalRefsDieWithThreads) {
  weft::local<Weak> l;
  std::vector<std::unique_ptr<weft::Thread>> threads;
  for (int i = 0; i < 20; ++i) {
    threads.push_back(std::make_unique<weft::Thread>([&] { (void)l.get(); }));
    threads.back()->start();
  }
  for (auto& t : threads) t->join();
  EXPECT_EQ(Weak::alive.load(), 0);
}

// test_threading_local.test_derived: each thread's value is constructed afresh, with
// no state leaking between threads.
TEST(CPythonThreadingLocal, FreshValuePerThread) {
  struct Counted {
    int x = 7;
  };
  weft::local<Counted> l;
  l->x = 1;
  std::vector<int> seen(5, 0);
  std::vector<std::unique_ptr<weft::Thread>> threads;
  for (int i = 0; i < 5; ++i) {
    threads.push_back(std::make_unique<weft::Thread>([&, i] {
      seen[static_cast<std::size_t>(i)] = l->x;
      l->x = 100 + i;
    }));
    threads.back()->start();
  }
  for (auto& t : threads) t->join();
  for (int v : seen) EXPECT_EQ(v, 7);
  EXPECT_EQ(l->x, 1);
}

// test_threading_local.test_thread_local_existing_thread: a local created after a
// thread started is still per thread.
TEST(CPythonThreadingLocal, LocalCreatedAfterThreadsStarted) {
  weft::Lock gate, ready;
  gate.acquire();
  ready.acquire();
  std::unique_ptr<weft::local<int>> l;
  int seen = -1;
  weft::Thread t([&] {
    ready.release();
    gate.acquire();
    seen = l->get();
    gate.release();
  });
  t.start();
  ready.acquire();
  l = std::make_unique<weft::local<int>>();
  l->get() = 5;
  gate.release();
  t.join();
  EXPECT_EQ(seen, 0);
  EXPECT_EQ(l->get(), 5);
}

}  // namespace
