// SPDX-License-Identifier: Apache-2.0
// Ctrl-C (SIGINT) as KeyboardInterrupt, each case in a child process: this test binary run
// again with only one ChildProcess.* case (which skips itself in a normal run) and
// WEFT_CANCEL_CHILD naming it. The child writes one byte to descriptor 3 when it is about
// to block; the parent then sends SIGINT and checks how the child ended. A signal that
// comes before the child blocks stays pending until its next blocking call, so the test
// does not depend on timing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

#include "cancel/child_process.hpp"
#include "support/blocking.hpp"
#include "weft/cancel.hpp"
#include "weft/thread.hpp"

namespace {

using namespace std::chrono_literals;
using weft::testing::child::exited_with;
using weft::testing::child::signal_ready;

constexpr const char* kChildVariable = "WEFT_CANCEL_CHILD";

// Runs ChildProcess.<scenario>, sends SIGINT once it is ready (if `interrupt`), returns its
// status. `sigint_env`: WEFT_SIGINT=raise; `uncaught`: exceptions escape main().
int run_child(const std::string& scenario, bool interrupt, bool sigint_env = false,
              bool uncaught = false) {
  return weft::testing::child::run(
      {"ChildProcess." + scenario, kChildVariable, scenario, sigint_env, uncaught}, interrupt);
}

TEST(KeyboardInterrupt, MainThreadBlockedInSleepThrowsIt) {
  EXPECT_TRUE(exited_with(run_child("BlockedSleepThrows", true), 0));
}

TEST(KeyboardInterrupt, WithoutTheHandlerSigintKeepsItsDefaultAction) {
  const int status = run_child("NoHandler", true);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << "status " << status;
}

TEST(KeyboardInterrupt, SignalOutsideWeftStaysPendingUntilTheNextCall) {
  EXPECT_TRUE(exited_with(run_child("PendingUntilNextCall", false), 0));
}

TEST(KeyboardInterrupt, OnlyTheMainThreadGetsIt) {
  EXPECT_TRUE(exited_with(run_child("OnlyMainThread", true), 0));
}

TEST(KeyboardInterrupt, CtrlCWhileJoiningAtExitEndsWithStatus130) {
  WEFT_SKIP_CTRL_C_UNDER_TSAN();  // the exit join parks in an untimed futex wait
  EXPECT_TRUE(exited_with(run_child("ExitJoin", true), 130));
}

TEST(KeyboardInterrupt, EscapingMainEndsTheProcessBySigintNotAbort) {
  const int status = run_child("UncaughtFromMain", true, false, true);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT)
      << (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                              : "exit status " + std::to_string(WEXITSTATUS(status)));
}

TEST(KeyboardInterrupt, OtherUncaughtExceptionsReachThePreviousTerminateHandler) {
  EXPECT_TRUE(exited_with(run_child("UncaughtOtherError", false, false, true), 42));
}

TEST(KeyboardInterrupt, WeftSigintRaiseInstallsTheHandlerAtStartUp) {
  EXPECT_TRUE(exited_with(run_child("FromEnvironment", false, true), 0));
}

TEST(KeyboardInterrupt, ForkingThreadIsTheChildsMainThread) {
  EXPECT_TRUE(exited_with(run_child("ForkFromAThread", false), 0));
}

// ---- the children ----

#define WEFT_CHILD_ONLY(scenario)                                    \
  if (!weft::testing::child::is_child(kChildVariable, scenario)) \
  GTEST_SKIP() << "runs in a child process of KeyboardInterrupt.*"

bool handler_installed() {
  struct sigaction current {};
  ::sigaction(SIGINT, nullptr, &current);
  return current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN;
}

TEST(ChildProcess, BlockedSleepThrows) {
  WEFT_CHILD_ONLY("BlockedSleepThrows");
  weft::install_keyboard_interrupt();
  weft::install_keyboard_interrupt();  // idempotent
  signal_ready();
  bool caught = false;
  try {
    weft::sleep(1h);
  } catch (const weft::Error&) {
    ADD_FAILURE() << "KeyboardInterrupt is not a weft::Error";
  } catch (const weft::KeyboardInterrupt& e) {
    caught = true;
    EXPECT_STREQ(e.what(), "KeyboardInterrupt");
  }
  EXPECT_TRUE(caught);
  weft::check_interrupt();  // throwing consumed the signal
  weft::sleep(1ms);
}

TEST(ChildProcess, NoHandler) {
  WEFT_CHILD_ONLY("NoHandler");
  ASSERT_FALSE(handler_installed()) << "weft installs nothing unless asked";
  ::signal(SIGINT, SIG_DFL);  // the parent may have run us with SIGINT ignored
  signal_ready();
  weft::sleep(1h);
  ADD_FAILURE() << "the default action should have ended the process";
}

TEST(ChildProcess, PendingUntilNextCall) {
  WEFT_CHILD_ONLY("PendingUntilNextCall");
  weft::install_keyboard_interrupt();
  ::raise(SIGINT);
  EXPECT_THROW(weft::check_interrupt(), weft::KeyboardInterrupt);
  weft::check_interrupt();  // consumed
  ::raise(SIGINT);
  EXPECT_THROW(weft::sleep(1h), weft::KeyboardInterrupt);
  weft::sleep(0s);  // nothing pending any more, and nothing to block on
}

TEST(ChildProcess, OnlyMainThread) {
  WEFT_CHILD_ONLY("OnlyMainThread");
  weft::install_keyboard_interrupt();
  std::atomic<bool> cancelled{false};
  weft::Thread worker([&] {
    try {
      weft::sleep(1h);
    } catch (const weft::CancelledError&) {
      cancelled = true;
    }
  });
  worker.start();
  ASSERT_TRUE(weft::testing::wait_until_parked(*worker.ident()));
  signal_ready();
  EXPECT_THROW(weft::sleep(1h), weft::KeyboardInterrupt);
  EXPECT_TRUE(worker.is_alive()) << "the worker's sleep was not interrupted";
  worker.request_stop();
  worker.join();
  EXPECT_TRUE(cancelled);
}

TEST(ChildProcess, ExitJoin) {
  WEFT_CHILD_ONLY("ExitJoin");
  weft::install_keyboard_interrupt();
  weft::Thread never_ends([] { weft::sleep(24h); });
  never_ends.start();
  signal_ready();
  std::exit(0);  // weft joins never_ends at exit; Ctrl-C ends that with status 130
}

TEST(ChildProcess, UncaughtFromMain) {
  WEFT_CHILD_ONLY("UncaughtFromMain");
  weft::install_keyboard_interrupt();
  signal_ready();
  weft::sleep(1h);  // KeyboardInterrupt escapes the test body and main()
  ADD_FAILURE() << "the sleep was not interrupted";
}

TEST(ChildProcess, UncaughtOtherError) {
  WEFT_CHILD_ONLY("UncaughtOtherError");
  std::set_terminate([] { std::_Exit(42); });
  weft::install_keyboard_interrupt();
  throw weft::RuntimeError("escapes main()");
}

TEST(ChildProcess, FromEnvironment) {
  WEFT_CHILD_ONLY("FromEnvironment");
  ASSERT_TRUE(handler_installed());
  ::raise(SIGINT);
  EXPECT_THROW(weft::check_interrupt(), weft::KeyboardInterrupt);
}

TEST(ChildProcess, ForkFromAThread) {
  WEFT_CHILD_ONLY("ForkFromAThread");
  weft::install_keyboard_interrupt();
  int status = -1;
  weft::Thread forker([&] {
    const pid_t pid = ::fork();
    if (pid == 0) {
      // This thread is the grandchild's main thread: its Ctrl-C is ours.
      ::raise(SIGINT);
      try {
        weft::check_interrupt();
      } catch (const weft::KeyboardInterrupt&) {
        ::_exit(0);
      }
      ::_exit(1);
    }
    ::waitpid(pid, &status, 0);
  });
  forker.start();
  forker.join();
  EXPECT_TRUE(exited_with(status, 0));
  weft::check_interrupt();  // the grandchild's signal was not ours
}

}  // namespace
