// SPDX-License-Identifier: Apache-2.0
// fork(): the child has only the forking thread. As in Python, every other thread is
// marked finished there (joins return, is_alive() is false, exit does not wait for
// them) and the forking thread is the child's main thread.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include <atomic>

#include "weft/detail/tsan.hpp"
#include "weft/event.hpp"
#include "weft/lock.hpp"
#include "weft/thread.hpp"

// In the forked child the thread `blocked` does not exist, so the heap memory only its
// stack referred to (its target) is unreachable there when LeakSanitizer checks at exit.
// That is what fork() does, not a leak of weft's; only this test's allocations are exempt.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:Fork_ChildForgetsTheOtherThreadsAndExitsWithoutWaiting\n";
}

namespace {

// Waits for the child, killing it after `limit` (a hang is a failure, not a stuck test).
int wait_child(pid_t pid, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::steady_clock::now() > end) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // only bounds the wait
  }
}

TEST(Fork, ChildForgetsTheOtherThreadsAndExitsWithoutWaiting) {
  weft::Lock gate;
  gate.acquire();
  weft::Thread blocked(weft::ThreadOptions{"blocked", false}, [&] {
    gate.acquire();
    gate.release();
  });
  blocked.start();
  const pid_t pid = ::fork();
  if (pid < 0) {  // no early return with `blocked` waiting: ~Thread would join it
    ADD_FAILURE() << "fork failed";
    gate.release();
    return;
  }
  if (pid == 0) {
    int code = 0;
    if (blocked.is_alive()) code |= 1;
    if (!blocked.join(std::chrono::seconds(0))) code |= 2;  // finished in the child
    if (weft::active_count() != 1) code |= 4;
    if (&weft::current_thread() != &weft::main_thread()) code |= 8;
    if (weft::current_thread().native_id() != weft::get_native_id()) code |= 16;
    std::exit(code);  // must not wait for `blocked`, which does not exist here
  }
  EXPECT_EQ(wait_child(pid), 0);
  EXPECT_TRUE(blocked.is_alive());  // the parent is unaffected
  gate.release();
  blocked.join();
}

TEST(Fork, ForkFromAWeftThreadMakesItTheChildsMainThread) {
  int child_status = -2;
  weft::Thread forker(weft::ThreadOptions{"forker", false}, [&] {
    const pid_t pid = ::fork();
    if (pid == 0) {
      int code = 0;
      if (&weft::main_thread() != &weft::current_thread()) code |= 1;
      if (weft::main_thread().name() != "forker") code |= 2;  // Python keeps the name
      if (weft::active_count() != 1) code |= 4;
      std::_Exit(code);  // _Exit: this thread's stack holds gtest state in the child
    }
    child_status = pid < 0 ? -3 : wait_child(pid);
  });
  forker.start();
  forker.join();
  EXPECT_EQ(child_status, 0);
}

TEST(Fork, ForkWhileOtherThreadsParkAndWakeLosesNoLock) {
  // Two threads hand an Event back and forth (parking-lot and wait-layer traffic on every
  // round) while this thread forks again and again. fork() locks the parking lot's
  // buckets, the thread registry and the wait layer's tables, and must release them in
  // an order in which none waits for another: a fork that deadlocks in its own handlers
  // hangs this test (ctest's timeout), a child that cannot use weft fails it.
  weft::Event ping, pong;
  std::atomic<bool> stop{false};
  weft::Thread a(weft::ThreadOptions{"ping", false}, [&] {
    while (!stop.load(std::memory_order_relaxed)) {
      ping.set();
      pong.wait(std::chrono::milliseconds(50));
      pong.clear();
    }
  });
  weft::Thread b(weft::ThreadOptions{"pong", false}, [&] {
    while (!stop.load(std::memory_order_relaxed)) {
      ping.wait(std::chrono::milliseconds(50));
      ping.clear();
      pong.set();
    }
  });
  a.start();
  b.start();
#if defined(WEFT_TSAN)
  constexpr int kForks = 50;  // a fork and its child take ~0.4 s under TSan beside CPU hogs
#else
  constexpr int kForks = 200;
#endif
  int failures = 0;
  for (int i = 0; i < kForks; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) {  // no early return: `a` and `b` must be stopped and joined
      ADD_FAILURE() << "fork failed";
      break;
    }
    if (pid == 0) {
      // The child parks (a timed wait that runs out) and starts a thread that it then
      // wakes and joins: every table fork() locked must work here.
      weft::Event never;
      bool ok = !never.wait(std::chrono::milliseconds(1));
#if !defined(WEFT_TSAN)  // ThreadSanitizer cannot start threads after a multi-threaded fork
      weft::Event go;
      weft::Thread t(weft::ThreadOptions{"child", false}, [&] { go.wait(); });
      t.start();
      go.set();
      ok = ok && t.join(std::chrono::seconds(60));
#endif
      std::_Exit(ok ? 0 : 1);
    }
    failures += wait_child(pid) != 0 ? 1 : 0;
  }
  stop = true;
  ping.set();
  pong.set();
  a.join();
  b.join();
  EXPECT_EQ(failures, 0);
}

}  // namespace
