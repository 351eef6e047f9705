// SPDX-License-Identifier: Apache-2.0
// src/process/worker.cpp: starting a worker process, and the worker's loop: read a task,
// find its function, run it, send back the result or the exception.
//
// This file holds the static object that turns a process started as a fork server or a
// worker into one before main(); spawn_program, which every pool calls through the fork
// server, keeps it linked in.
#include "process/worker.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <utility>

#include "process/code_ref.hpp"
#include "process/fork_server.hpp"
#include "process/framing.hpp"
#include "weft/process.hpp"

extern char** environ;

namespace weft::detail {
namespace {

void flush_output() {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
}

[[noreturn]] void worker_exit(int code) {
  flush_output();
  ::_exit(code);
}

}  // namespace

[[noreturn]] void run_worker(int fd) {
  std::string body;
  if (!receive_message(fd, body)) worker_exit(0);
  std::uint64_t max_tasks = 0;
  try {
    WireReader hello(body);
    if (hello.read<char>() != 'H') worker_exit(2);
    max_tasks = hello.read<std::uint64_t>();
    if (hello.read<std::uint8_t>() != 0) {
      auto init = reinterpret_cast<void (*)()>(locate(hello.read<CodeRef>()));
      init();
    }
  } catch (...) {
    WireWriter w;
    w.write('I');
    w.write(describe_current_exception());
    send_message(fd, w.buffer());
    worker_exit(1);
  }
  std::uint64_t served = 0;
  std::vector<std::pair<CodeRef, std::uintptr_t>> cache;
  auto resolve = [&](const CodeRef& r) {
    for (auto& [k, v] : cache)
      if (k.offset == r.offset && k.module == r.module) return v;
    const std::uintptr_t a = locate(r);
    cache.emplace_back(r, a);
    return a;
  };
  while (receive_message(fd, body)) {
    WireReader in(body);
    WireWriter out;
    std::uint64_t id = 0;
    try {
      if (in.read<char>() != 'T') worker_exit(2);
      id = in.read<std::uint64_t>();
      const CodeRef inv = in.read<CodeRef>();
      const CodeRef fn = in.read<CodeRef>();
      auto invoker = reinterpret_cast<RemoteInvoker>(resolve(inv));
      out.write('R');
      out.write(id);
      invoker(resolve(fn), in, out);
    } catch (...) {
      const std::string type = current_exception_type_name();
      std::string message;
      try {
        throw;
      } catch (const std::exception& e) {
        message = e.what();
      } catch (...) {
      }
      out = WireWriter();
      out.write('E');
      out.write(id);
      out.write(type);
      out.write(message);
    }
    if (!send_message(fd, out.buffer())) worker_exit(0);
    if (max_tasks != 0 && ++served >= max_tasks) break;
    // What the task printed goes out now, while the pool reads the result, instead of
    // when the worker exits: the first flush touches code and data this process has not
    // touched yet (a page fault each), which then stay off the pool's shutdown path.
    flush_output();
  }
  worker_exit(0);
}

namespace {

// Turns this process into a fork server or a worker before main() when it was started
// as one.
struct WorkerEntry {
  WorkerEntry() {
    const char* v = std::getenv(kWorkerEnv);
    if (v == nullptr) return;
    const bool bind_now = std::strcmp(v, kForkServerBindNowMarker) == 0;
    const bool server = bind_now || std::strcmp(v, kForkServerMarker) == 0;
    const int fd = server ? kWorkerFd : std::atoi(v);
    ::unsetenv(kWorkerEnv);  // the workers' own pools start their own fork server
    if (bind_now) ::unsetenv("LD_BIND_NOW");
    // Not inherited by the programs a task runs: the parent sees this worker's end of the
    // socket close (and the worker's death) even while such a program lives on.
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (server) run_fork_server(fd);
    run_worker(fd);
  }
};
const WorkerEntry worker_entry;

}  // namespace

std::vector<char*> worker_environment(std::string& marker, const char* value) {
  std::vector<char*> envp;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, kWorkerEnv, std::strlen(kWorkerEnv)) == 0 &&
        (*e)[std::strlen(kWorkerEnv)] == '=')
      continue;
    envp.push_back(*e);
  }
  marker = std::string(kWorkerEnv) + "=" + value;
  envp.push_back(marker.data());
  envp.push_back(nullptr);
  return envp;
}

int spawn_program(int child_end, char** envp) noexcept {
  char arg0[] = "weft-process-worker";
  char* argv[] = {arg0, nullptr};
  posix_spawn_file_actions_t fa;
  if (const int rc = posix_spawn_file_actions_init(&fa); rc != 0) return -rc;
  int rc = posix_spawn_file_actions_adddup2(&fa, child_end, kWorkerFd);
  // The program's own descriptors without close-on-exec stay out of the worker too
  // (a pipe's write end kept open by a worker would hide the pipe's end from its reader).
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&fa, kWorkerFd + 1);
  pid_t pid = -1;
  if (rc == 0) rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? static_cast<int>(pid) : -rc;
}

}  // namespace weft::detail
