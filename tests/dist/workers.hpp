// SPDX-License-Identifier: Apache-2.0
// Worker processes for the dist tests: fork() + dist::serve(), reaped by a guard, and
// the gated task that lets a test act while a task is known to be running.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "weft/dist.hpp"

namespace weft_test {

// Runs dist::serve(url, options) in a child process; its exit status: 0 when serve
// returned, 3 when it threw.
inline pid_t spawn_worker(const std::string& url, weft::dist::WorkerOptions options) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int code = 0;
    try {
      weft::dist::serve(url, options);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "worker: %s\n", e.what());
      code = 3;
    }
    ::_exit(code);
  }
  return pid;
}

// Exit status of a child (-1 if it did not exit normally); blocks until it ends.
inline int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Workers of one test; any still running at the end are killed and reaped.
class Workers {
 public:
  // Starts `count` workers at once.
  Workers(std::string url, weft::dist::WorkerOptions options, int count = 0)
      : url_(std::move(url)), options_(options) {
    for (int i = 0; i < count; ++i) start();
  }
  ~Workers() {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGCONT);
      ::kill(pid, SIGKILL);
      wait_exit(pid);
    }
  }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  pid_t start() {
    pids_.push_back(spawn_worker(url_, options_));
    return pids_.back();
  }
  // Sends SIGTERM and returns the exit status.
  int terminate(pid_t pid) {
    ::kill(pid, SIGCONT);
    ::kill(pid, SIGTERM);
    return reap(pid);
  }
  void kill9(pid_t pid) {
    ::kill(pid, SIGKILL);
    reap(pid);
  }
  // Waits for the child to end by itself; returns its exit status.
  int reap(pid_t pid) {
    const int code = wait_exit(pid);
    pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
    return code;
  }
  // A child that ended, if any (without blocking); -1 if none.
  pid_t ended() {
    for (pid_t pid : pids_) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
        return pid;
      }
    }
    return -1;
  }
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  std::string url_;
  weft::dist::WorkerOptions options_;
  std::vector<pid_t> pids_;
};

// A task that records that it started (its pid into the queue at `started`), then waits
// until the queue at `gate` is shut down (or yields an item), and returns 2 * x. The test
// acts while it is known to run: kills its worker, pauses the server, ... Connection
// errors (a paused or restarting server) do not end it.
inline int gated(std::string started, std::string gate, int x) {
  try {
    weft::dist::Queue<int>(started).put(static_cast<int>(::getpid()));
  } catch (const weft::dist::ConnectionError&) {
    // The server can show the marker before this put's reply arrives (it answers after
    // its fsync); a pause in between fails the put here although the marker is there.
  }
  for (;;) {
    try {
      weft::dist::Queue<int> g(gate);
      g.get();
      break;
    } catch (const weft::ShutDown&) {
      break;
    } catch (const weft::dist::ConnectionError&) {
      // the server is paused or restarting: keep waiting
    }
  }
  return 2 * x;
}

}  // namespace weft_test
