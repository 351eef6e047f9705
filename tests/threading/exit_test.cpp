// SPDX-License-Identifier: Apache-2.0
// Python's shutdown: when the process exits (std::exit, or main returning), weft joins
// the non-daemon threads still running and abandons the daemon ones. Each scenario
// runs in a child process (a gtest death test) and reports through stderr.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "support/blocking.hpp"
#include "weft/event.hpp"
#include "weft/lock.hpp"
#include "weft/queue.hpp"
#include "weft/thread.hpp"

namespace {

void say(const char* text) { (void)!::write(2, text, std::strlen(text)); }

// In the child: a daemon blocked forever (exit begins once it is), and a non-daemon thread
// that finishes its work only once the exiting thread is parked joining it.
[[noreturn]] void exit_with_threads_running(weft::Thread*& keep_daemon, weft::Thread*& keep_worker) {
  static weft::Lock never;  // never released: the daemon blocks for good
  never.acquire();
  const std::uint64_t exiting = weft::get_ident();
  keep_daemon = new weft::Thread(weft::ThreadOptions{"daemon", true}, [] {
    say("daemon started\n");
    never.acquire();
    say("daemon finished\n");
  });
  keep_daemon->start();
  // Exit starts with the daemon blocked on `never` (so "daemon started" was said first).
  if (!weft::testing::wait_until_parked(*keep_daemon->ident())) say("the daemon never blocked\n");
  keep_worker = new weft::Thread(weft::ThreadOptions{"worker", false}, [exiting] {
    // The exiting thread parks only inside weft's at-exit join: wait for that, so the
    // work below provably happens after std::exit began and before the process ends.
    if (!weft::testing::wait_until_parked(exiting)) say("exit did not wait\n");
    say("worker finished\n");
  });
  keep_worker->start();
  say("exiting\n");
  std::exit(3);
}

TEST(ExitDeathTest, ExitJoinsNonDaemonThreadsAndAbandonsDaemons) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  weft::Thread* d = nullptr;
  weft::Thread* w = nullptr;
  EXPECT_EXIT(exit_with_threads_running(d, w), ::testing::ExitedWithCode(3),
              "daemon started\n(.|\n)*exiting\n(.|\n)*worker finished\n$");
}

// A non-daemon thread that joins the main thread: as in Python, the main thread counts
// as finished when exit begins, so the join returns and exit completes.
[[noreturn]] void exit_while_a_thread_joins_main() {
  weft::Thread* joiner = new weft::Thread(weft::ThreadOptions{"joiner", false}, [] {
    weft::main_thread().join();
    say("main joined\n");
  });
  joiner->start();
  std::exit(5);
}

TEST(ExitDeathTest, AThreadJoiningMainFinishesAtExit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(exit_while_a_thread_joins_main(), ::testing::ExitedWithCode(5), "main joined\n$");
}

[[noreturn]] void exit_from_a_worker() {
  weft::Thread* worker = new weft::Thread([] {
    say("worker calls exit\n");
    std::exit(4);  // the exiting thread must not try to join itself
  });
  worker->start();
  worker->join();  // never returns: the process exits first
  std::abort();
}

TEST(ExitDeathTest, ExitCalledFromAWeftThreadDoesNotJoinItself) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(exit_from_a_worker(), ::testing::ExitedWithCode(4), "worker calls exit");
}

// Module-level objects and daemon threads still inside them at exit (issue 11, #6): the
// Python pattern of a global queue and daemon workers. Constructed before main(), so
// they are destroyed after weft's at-exit handler has joined the non-daemon threads.
weft::Queue<std::string> g_work_queue;       // daemons churn through it at exit
weft::Queue<int> g_idle_queue;               // daemons blocked in get()
weft::Queue<int> g_full_queue(1);            // daemons blocked in put()
weft::LifoQueue<std::string> g_lifo_queue;   // churned too
weft::Event g_never;                         // daemons blocked in wait()

// In a forked child: daemon threads blocked in get(), put() and Event::wait(), and
// others busy moving items through two queues, then exit() while they run.
[[noreturn]] void exit_with_daemons_inside_static_objects() {
  // Kept in a trivially destructible global, so that a leak checker still sees them.
  static weft::Thread* daemons[16] = {};
  static int started = 0;
  auto daemon = [](auto fn) {
    daemons[started] = new weft::Thread(weft::ThreadOptions{"daemon", true}, fn);
    daemons[started++]->start();
  };
  g_full_queue.put(0);
  for (int i = 0; i < 2; ++i) {
    daemon([] { (void)g_idle_queue.get(); });
    daemon([] { g_full_queue.put(1); });
    daemon([] { g_never.wait(); });
    daemon([] {
      for (;;) g_work_queue.put(g_work_queue.get() + "x");
    });
    daemon([] {
      for (;;) {
        std::string s = g_lifo_queue.get();
        if (s.size() > 64) s.clear();
        g_lifo_queue.put(s + "y");
      }
    });
  }
  for (int i = 0; i < 16; ++i) {
    g_work_queue.put(std::string(32, 'a'));
    g_lifo_queue.put(std::string(32, 'b'));
  }
  std::exit(0);
}

TEST(ExitWithDaemons, StaticQueuesSurviveDaemonThreadsInsideThemAtExit) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr int kExits = 20;  // a child's start and exit take seconds under a sanitizer
#else
  constexpr int kExits = 200;
#endif
  int clean = 0;
  std::string failures;
  for (int i = 0; i < kExits; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) exit_with_daemons_inside_static_objects();
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      ++clean;
    } else if (failures.size() < 200) {
      failures += WIFSIGNALED(status) ? " signal " + std::to_string(WTERMSIG(status))
                                      : " status " + std::to_string(WEXITSTATUS(status));
    }
  }
  EXPECT_EQ(clean, kExits) << "exits that failed:" << failures;
}

}  // namespace
