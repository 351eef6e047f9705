// SPDX-License-Identifier: Apache-2.0
// Test support for Ctrl-C tests: this test binary run again as a child process with one
// test case selected (--gtest_filter) and an environment variable naming the scenario (the
// child's test case skips itself in a normal run). The child writes one byte to descriptor
// kReadyFd when it is about to block, or is blocked; the parent then sends SIGINT and checks
// how the child ended. Every wait of the parent is bounded: a child that never gets ready or
// never ends fails the test (and is killed) instead of hanging it.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace weft::testing::child {

constexpr int kReadyFd = 3;

struct Child {
  pid_t pid = -1;
  int ready_fd = -1;
};

struct Options {
  std::string test;            // the child's test case, e.g. "ChildProcess.Sleep"
  std::string variable;        // the marker variable the child's test case checks
  std::string scenario;        // its value
  bool sigint_env = false;     // WEFT_SIGINT=raise in the child's environment
  bool uncaught = false;       // GoogleTest lets exceptions escape the test body (and main())
};

inline bool starts_with_assignment(const char* entry, const std::string& name) {
  return std::strncmp(entry, name.c_str(), name.size()) == 0 && entry[name.size()] == '=';
}

// Starts the child; pid -1 (and a test failure) if it could not.
inline Child spawn(const Options& o) {
  int fds[2];
  if (::pipe(fds) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return {};
  }
  // Everything the child needs is built before fork(): after it, only dup2 and execve.
  std::string filter = "--gtest_filter=" + o.test;
  std::string marker = o.variable + "=" + o.scenario;
  std::string sigint = "WEFT_SIGINT=raise";
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (!starts_with_assignment(*e, "WEFT_SIGINT") && !starts_with_assignment(*e, o.variable))
      env.push_back(*e);
  env.push_back(marker.data());
  if (o.sigint_env) env.push_back(sigint.data());
  env.push_back(nullptr);
  char exe[] = "/proc/self/exe";
  char no_catch[] = "--gtest_catch_exceptions=0";
  char* argv[] = {exe, filter.data(), o.uncaught ? no_catch : nullptr, nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], kReadyFd);
    ::execve(exe, argv, env.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return {};
  }
  return {pid, fds[0]};
}

// Waits (at most a bound far beyond what a correct child needs) for the child's byte.
inline bool wait_ready(const Child& c) {
  pollfd p{c.ready_fd, POLLIN, 0};
  if (::poll(&p, 1, 60'000) != 1) return false;
  char byte = 0;
  return ::read(c.ready_fd, &byte, 1) == 1;
}

// The child's wait status; a child still running after the bound is killed (the test
// fails instead of hanging).
inline int wait_exit(Child& c) {
  using namespace std::chrono_literals;
  int status = 0;
  const auto end = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
    if (r == c.pid) break;
    if (std::chrono::steady_clock::now() > end) {
      ADD_FAILURE() << "the child did not end; killing it";
      ::kill(c.pid, SIGKILL);
      ::waitpid(c.pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(2ms);
  }
  ::close(c.ready_fd);
  return status;
}

inline ::testing::AssertionResult exited_with(int status, int code) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == code) return ::testing::AssertionSuccess();
  if (WIFEXITED(status))
    return ::testing::AssertionFailure() << "exit status " << WEXITSTATUS(status);
  return ::testing::AssertionFailure() << "killed by signal " << WTERMSIG(status);
}

// Runs the child, sends SIGINT once it is ready (if `interrupt`), returns its status.
inline int run(const Options& o, bool interrupt) {
  Child c = spawn(o);
  if (c.pid < 0) return -1;
  if (interrupt) {
    EXPECT_TRUE(wait_ready(c)) << "the child never got ready";
    ::kill(c.pid, SIGINT);
  }
  return wait_exit(c);
}

// In the child: true when this process runs `scenario` of `variable`.
inline bool is_child(const char* variable, const char* scenario) {
  const char* v = std::getenv(variable);
  return v != nullptr && std::strcmp(v, scenario) == 0;
}

// In the child: tells the parent it is (about to be) blocked.
inline void signal_ready() {
  const char byte = 1;
  ASSERT_EQ(::write(kReadyFd, &byte, 1), 1);
}

}  // namespace weft::testing::child
