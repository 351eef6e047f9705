// SPDX-License-Identifier: Apache-2.0
// The hang report (WEFT_DEBUG=deadlock, WEFT_HANG_SECONDS) and the dump on SIGQUIT
// (WEFT_DEBUG=dump-on-sigquit). Each scenario runs in a child process (this program,
// re-run on one DISABLED_ test of HangChild, with the environment set), whose stderr the
// parent reads until the expected report appears; the child is killed at the end.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "debug_fixture.hpp"
#include "support/blocking.hpp"
#include "weft/event.hpp"
#include "weft/queue.hpp"
#include "weft/thread.hpp"

extern char** environ;

namespace weft::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// This test program, re-run on one child scenario with `env` added to (and WEFT_*
// variables removed from) the environment. Its stderr is a pipe the parent reads; the
// destructor kills it if it still runs.
class Child {
 public:
  Child(const std::string& scenario, const std::vector<std::string>& env) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    std::vector<std::string> vars;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::strncmp(*e, "WEFT_", 5) != 0) vars.emplace_back(*e);
    vars.insert(vars.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& v : vars) envp.push_back(v.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe";
    std::string filter = "--gtest_filter=HangChild.DISABLED_" + scenario;
    std::string disabled = "--gtest_also_run_disabled_tests";
    char* argv[] = {exe.data(), filter.data(), disabled.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (::posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv, envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0 && fd_ >= 0; }
  pid_t pid() const { return pid_; }
  const std::string& err() const { return err_; }

  // Reads stderr until done(err()) holds, the pipe closes or `limit` passes; returns
  // done(err()).
  bool read_until(const std::function<bool(const std::string&)>& done,
                  std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    while (!done(err_)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      if (left.count() <= 0 || !read_some(static_cast<int>(left.count()))) break;
    }
    return done(err_);
  }

  // Reads stderr until `window` has passed (or the pipe closes).
  void read_for(std::chrono::milliseconds window) {
    read_until([](const std::string&) { return false; }, window);
  }

  // Reads stderr to its end and returns the exit status (-1 on a limit or a signal).
  int wait_exit(std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      if (left.count() <= 0) return -1;
      if (!read_some(static_cast<int>(left.count()))) break;
    }
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) return -1;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  // False when the pipe closed (or failed) or nothing came within timeout_ms.
  bool read_some(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, std::min(timeout_ms, 1000));
    if (r < 0) return errno == EINTR;
    if (r == 0) return true;  // keep waiting (the caller checks its limit)
    char buf[4096];
    const auto n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return n < 0 && errno == EINTR;
    err_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool reaped_ = false;
  std::string err_;
};

constexpr auto kLimit = std::chrono::seconds(90);  // generous: a loaded TSan machine

// ---- the child scenarios (run only in a child, on request) ----

// A three-stage pipeline whose last stage died after one item: the source and the
// middle stage block on full queues forever, the main thread in join().
TEST(HangChild, DISABLED_PipelineWithDeadSink) {
  Queue<int> first(1, "stage1-out"), second(1, "stage2-out");
  Thread sink(ThreadOptions{"sink"}, [&] { second.get(); });  // then it is gone
  Thread middle(ThreadOptions{"middle"}, [&] {
    for (;;) second.put(first.get());
  });
  Thread source(ThreadOptions{"source"}, [&] {
    for (int i = 0;; ++i) first.put(i);
  });
  sink.start();
  middle.start();
  source.start();
  source.join();  // never returns: the parent kills this process
}

// A daemon thread waits on an Event nobody sets; the main thread sleeps in poll().
// (Not in a weft wait: ThreadSanitizer holds back a signal that reaches a thread parked
// in an uninstrumented futex wait until that thread wakes, and the kernel gives SIGQUIT
// to the main thread first. Without TSan the dump comes whichever thread it reaches.)
TEST(HangChild, DISABLED_WaitForSigquit) {
  Event never("never");
  Thread sleeper(ThreadOptions{"sleeper", true}, [&] { never.wait(); });
  sleeper.start();
  ASSERT_TRUE(wait_until_parked(*sleeper.ident()));
  std::fprintf(stderr, "child: ready\n");
  for (;;) ::poll(nullptr, 0, 1000);  // the parent kills this process
}

// Threads that make progress the whole time, for many hang thresholds: a ping-pong
// while the main thread polls join(10ms); then a consumer idles on an empty queue while
// the main thread computes outside weft.
TEST(HangChild, DISABLED_Progress) {
  const auto run_for = std::chrono::milliseconds(1500);
  Queue<int> ping(1, "ping"), pong(1, "pong");
  Thread pinger(ThreadOptions{"pinger"}, [&] {
    const auto end = Clock::now() + run_for;
    for (int i = 0; Clock::now() < end; ++i) {
      ping.put(i);
      pong.get();
    }
    ping.put(-1);
  });
  Thread ponger(ThreadOptions{"ponger"}, [&] {
    for (int v = 0; v >= 0;) {
      v = ping.get();
      if (v >= 0) pong.put(v);
    }
  });
  pinger.start();
  ponger.start();
  while (!pinger.join(std::chrono::milliseconds(10))) {
  }
  ponger.join();
  Queue<int> jobs(0, "jobs");
  Thread consumer(ThreadOptions{"consumer"}, [&] { jobs.get(); });
  consumer.start();
  std::atomic<std::uint64_t> spins{0};
  const auto end = Clock::now() + run_for;
  while (Clock::now() < end) spins.fetch_add(1, std::memory_order_relaxed);  // busy, not in weft
  jobs.put(1);
  consumer.join();
  std::fprintf(stderr, "child: finished\n");
}

// ---- the parent tests ----

TEST(Hang, PipelineWithADeadStageIsReportedOnce) {
  Child child("PipelineWithDeadSink", {"WEFT_DEBUG=deadlock", "WEFT_HANG_SECONDS=0.3"});
  ASSERT_TRUE(child.started());
  const bool reported = child.read_until(
      [](const std::string& e) {
        return contains(e, "weft: hang") && contains(e, "\"middle\"") &&
               contains(e, "\"source\"") && contains(e, "\"MainThread\"");
      },
      kLimit);
  ASSERT_TRUE(reported) << child.err();
  // The stall goes on: no second report for it (a few thresholds later).
  child.read_for(std::chrono::milliseconds(1500));
  const std::string& e = child.err();
  EXPECT_EQ(count(e, "weft: hang"), 1u) << e;
  EXPECT_EQ(count(e, "weft thread dump"), 1u) << e;
  EXPECT_TRUE(contains(e, "waits on Queue \"stage1-out\"")) << e;
  EXPECT_TRUE(contains(e, "waits on Queue \"stage2-out\"")) << e;
  EXPECT_TRUE(contains(e, "waits on Thread \"source\"")) << e;
  EXPECT_FALSE(contains(e, "\"sink\"")) << "the dead stage is not listed\n" << e;
  EXPECT_FALSE(contains(e, "deadlock:")) << "no wait-for cycle here\n" << e;
}

TEST(Hang, SigquitPrintsTheDumpOnDemand) {
  Child child("WaitForSigquit", {"WEFT_DEBUG=dump-on-sigquit"});
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(child.read_until([](const std::string& e) { return contains(e, "child: ready"); },
                               kLimit))
      << child.err();
  for (std::size_t n = 1; n <= 2; ++n) {  // each SIGQUIT: one more dump
    ASSERT_EQ(::kill(child.pid(), SIGQUIT), 0);
    ASSERT_TRUE(child.read_until(
        [n](const std::string& e) {
          return count(e, "weft thread dump") == n && count(e, "waits on Event \"never\"") == n;
        },
        kLimit))
        << child.err();
  }
  const std::string& e = child.err();
  EXPECT_TRUE(contains(e, "\"sleeper\" (ident")) << e;
  EXPECT_TRUE(contains(e, "\"MainThread\" (ident")) << e;
  EXPECT_TRUE(contains(e, ") running")) << "the main thread is in poll()\n" << e;
  EXPECT_FALSE(contains(e, "weft: hang")) << "deadlock is off\n" << e;
}

TEST(Hang, ThreadsThatMakeProgressAreNotReported) {
  Child child("Progress", {"WEFT_DEBUG=deadlock", "WEFT_HANG_SECONDS=0.2"});
  ASSERT_TRUE(child.started());
  EXPECT_EQ(child.wait_exit(kLimit), 0) << child.err();
  EXPECT_TRUE(contains(child.err(), "child: finished")) << child.err();
  EXPECT_FALSE(contains(child.err(), "weft: hang")) << child.err();
}

TEST(Hang, SettingsAreVisibleInCurrentOptions) {
  const debug::Options before = debug::current_options();
  debug::Options o;
  o.dump_on_sigquit = true;
  debug::enable(o);
  EXPECT_TRUE(debug::current_options().dump_on_sigquit);
  struct sigaction now {};
  ASSERT_EQ(::sigaction(SIGQUIT, nullptr, &now), 0);
  EXPECT_NE(now.sa_handler, SIG_DFL);
  debug::disable();
  EXPECT_FALSE(debug::current_options().dump_on_sigquit);
  ASSERT_EQ(::sigaction(SIGQUIT, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, SIG_DFL) << "disable() restores the previous action";
  if (before.lock_order || before.deadlock || before.stats || !before.trace_path.empty() ||
      before.dump_on_sigquit)
    debug::enable(before);
}

}  // namespace
}  // namespace weft::testing
