// SPDX-License-Identifier: Apache-2.0
// Worker processes for the dist tests: dist::serve() in child processes, reaped by a guard, and
// the gated task that lets a test act while a task is known to be running.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "weft/dist.hpp"

extern char** environ;

namespace weft_test {

// Worker processes are new executions of the running program (posix_spawn of
// /proc/self/exe), not forks: a fork of a process with threads cannot start threads
// under ThreadSanitizer, and serve() starts some. The program runs
// run_worker_from_environment() early (the test binary in its DistWorkerProcess.Serve
// test, selected by --gtest_filter; a benchmark at the top of main).
//
// A worker dies with the thread that started it (a parent-death signal, SIGKILL): a test
// run that is killed or halted leaves no worker behind holding the test runner's output
// pipe. Start workers from a thread that outlives them (a test's own thread does).
inline constexpr const char* kWorkerEnv = "WEFT_DIST_TEST_WORKER";
// A process that starts one worker and then waits to be killed (the parent in
// DistWorkerProcess.DiesWithItsParent); same specification as a worker's.
inline constexpr const char* kParentEnv = "WEFT_DIST_TEST_PARENT";
// Exit status of a worker whose parent had already ended when it tied its life to it.
inline constexpr int kOrphanedExit = 4;

// "PARENT_PID THREADS LEASE_MS MAX_DELIVERIES URL": a worker's specification.
inline std::string worker_spec(pid_t parent, const std::string& url, const weft::dist::WorkerOptions& options) {
  return std::to_string(parent) + " " + std::to_string(options.threads) + " " +
         std::to_string(options.lease.count()) + " " + std::to_string(options.max_deliveries) + " " + url;
}

// Starts /proc/self/exe with args and the environment plus `env_name`=`env_value` (any
// other WEFT_DIST_TEST_ entry is left out); its stdout goes to /dev/null (a test runner's
// output is noise there), its stderr to `stderr_fd` (-1: this process's stderr). Its pid.
inline pid_t spawn_self(const char* env_name, const std::string& env_value,
                        const std::vector<std::string>& extra_args, int stderr_fd = -1) {
  // Built by appending: gcc 12 at -O2 with -fsanitize=thread reports a false
  // -Warray-bounds on `std::string(name) + "=" + value`.
  std::string env_entry(env_name);
  env_entry.append(1, '=').append(env_value);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string_view(*e).substr(0, 15) != "WEFT_DIST_TEST_") env.push_back(*e);
  env.push_back(const_cast<char*>(env_entry.c_str()));
  env.push_back(nullptr);
  std::string exe = "/proc/self/exe";
  std::vector<std::string> args{exe};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&files, stderr_fd, 2);
  pid_t pid = -1;
  const int error = ::posix_spawn(&pid, exe.c_str(), &files, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&files);
  if (error != 0) throw std::runtime_error("cannot start a worker process");
  return pid;
}

// Starts a worker process serving url with options; its pid.
inline pid_t spawn_worker(const std::string& url, weft::dist::WorkerOptions options,
                          const std::vector<std::string>& extra_args) {
  return spawn_self(kWorkerEnv, worker_spec(::getpid(), url, options), extra_args);
}

// Ties this process's life to the thread that started it (SIGKILL when that thread
// ends); ends this process with kOrphanedExit if `parent` had already ended.
inline void die_with_parent(pid_t parent) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ::_exit(kOrphanedExit);
  // The parent may have ended before the prctl, which then waits for nothing: this
  // process was handed to another one (init or a subreaper) meanwhile.
  if (::getppid() != parent) ::_exit(kOrphanedExit);
}

// In a worker process: serves the executor the environment names, then ends the
// process (status 0 when serve returned, 3 when it threw). In a parent process (see
// kParentEnv): starts that worker and waits to be killed. Elsewhere: returns.
inline void run_worker_from_environment() {
  const char* parent_spec = std::getenv(kParentEnv);
  const char* spec = parent_spec != nullptr ? parent_spec : std::getenv(kWorkerEnv);
  if (spec == nullptr) return;
  long long parent = 0;
  unsigned long threads = 0, max = 0;
  long long lease = 0;
  int used = 0;
  if (std::sscanf(spec, "%lld %lu %lld %lu %n", &parent, &threads, &lease, &max, &used) != 4) ::_exit(2);
  die_with_parent(static_cast<pid_t>(parent));
  weft::dist::WorkerOptions options;
  options.threads = threads;
  options.lease = std::chrono::milliseconds(lease);
  options.max_deliveries = max;
  if (parent_spec != nullptr) {
    spawn_worker(spec + used, options, {"--gtest_filter=DistWorkerProcess.Serve"});
    for (;;) ::pause();
  }
  int code = 0;
  try {
    weft::dist::serve(spec + used, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "worker: %s\n", e.what());
    code = 3;
  }
  ::_exit(code);
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
  // Starts `count` workers at once; extra_args: the program's arguments in a worker.
  Workers(std::string url, weft::dist::WorkerOptions options, int count = 0,
          std::vector<std::string> extra_args = {"--gtest_filter=DistWorkerProcess.Serve"})
      : url_(std::move(url)), options_(options), extra_args_(std::move(extra_args)) {
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
    pids_.push_back(spawn_worker(url_, options_, extra_args_));
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
  std::vector<std::string> extra_args_;
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
