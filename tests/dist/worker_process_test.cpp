// SPDX-License-Identifier: Apache-2.0
// The dist tests' worker processes die with their parent: a test run that is killed
// leaves no worker behind holding the test runner's output pipe (workers.hpp).
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "redis_server.hpp"
#include "support/scope_exit.hpp"
#include "weft/dist.hpp"
#include "workers.hpp"

WEFT_REMOTE(weft_test::gated);

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A pipe that stands for a test runner's: the children write to it, this process only
// reads (its own write end is closed once the children have it).
class OutputPipe {
 public:
  OutputPipe() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  }
  ~OutputPipe() {
    close_write_end();
    ::close(fds_[0]);
  }
  OutputPipe(const OutputPipe&) = delete;
  OutputPipe& operator=(const OutputPipe&) = delete;

  int write_end() const { return fds_[1]; }
  void close_write_end() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }
  // Reads until every writer has closed its end (true), or until `limit` passed (false).
  bool drain_until_closed(std::chrono::seconds limit) {
    const auto give_up = Clock::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - Clock::now());
      if (left <= 0ms) return false;
      pollfd p{fds_[0], POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds_[0], buffer, sizeof buffer);
      if (n == 0) return true;
      if (n > 0) text_.append(buffer, static_cast<std::size_t>(n));
    }
  }
  const std::string& text() const { return text_; }

 private:
  int fds_[2] = {-1, -1};
  std::string text_;
};

weft::dist::WorkerOptions one_thread() {
  weft::dist::WorkerOptions o;
  o.threads = 1;
  o.lease = 500ms;
  return o;
}

// A parent process starts a worker; the worker runs a task; the parent is killed. The
// worker ends too (SIGKILL, its parent-death signal) and so releases the output pipe
// that the parent and it shared, which here stands for ctest's.
TEST(DistWorkerProcess, DiesWithItsParent) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  // Orphans of this process's children become its children: the worker, once its parent
  // is gone, so its end can be seen.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  weft::testing::ScopeExit no_longer_subreaper([] { ::prctl(PR_SET_CHILD_SUBREAPER, 0); });

  OutputPipe output;
  const std::string spec = weft_test::worker_spec(::getpid(), server.url("ex"), one_thread());
  const pid_t parent = weft_test::spawn_self(weft_test::kParentEnv, spec,
                                             {"--gtest_filter=DistWorkerProcess.Serve"}, output.write_end());
  output.close_write_end();
  pid_t worker = -1;
  weft::testing::ScopeExit end_children([&] {
    for (pid_t pid : {parent, worker}) {
      if (pid <= 0) continue;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);  // no-op if already reaped
    }
  });

  weft::dist::Executor ex(server.url("ex"));
  weft::dist::Queue<int> started(server.url("started"));
  auto task = ex.submit(weft_test::gated, server.url("started"), server.url("gate"), 1);
  weft::testing::ScopeExit drop_task([&] { task.cancel(); });  // its worker is killed below
  worker = started.get(60s);  // the worker runs the task: it is past its setup
  ASSERT_NE(worker, parent);

  ::kill(parent, SIGKILL);
  EXPECT_EQ(weft_test::wait_exit(parent), -1);
  ASSERT_TRUE(output.drain_until_closed(60s)) << "the worker still holds the output pipe; it wrote:\n"
                                              << output.text();
  int status = 0;
  ASSERT_EQ(::waitpid(worker, &status, 0), worker);
  worker = -1;
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
}

// A worker whose parent ended before the worker could tie its life to it exits at
// once, with kOrphanedExit (here: its specification names another process as parent).
TEST(DistWorkerProcess, ExitsWhenItsParentIsAlreadyGone) {
  const std::string spec = weft_test::worker_spec(::getppid(), "redis+unix:///nonexistent/redis.sock?name=ex",
                                                  one_thread());
  const pid_t worker = weft_test::spawn_self(weft_test::kWorkerEnv, spec,
                                             {"--gtest_filter=DistWorkerProcess.Serve"});
  EXPECT_EQ(weft_test::wait_exit(worker), weft_test::kOrphanedExit);
}

}  // namespace
