// SPDX-License-Identifier: Apache-2.0
// src/process/fork_server.hpp: how worker processes start, private to src/process.
//
// One fork server per process that uses a process pool: this same program, started with
// posix_spawn of /proc/self/exe on the first worker start and kept until the program
// exits (it exits when its socket reaches EOF). Before main(), weft sees the marker in
// its environment and runs the server loop instead of the program: single-threaded, it
// only waits for requests. Each request carries a worker's socket; the server clones
// itself (CLONE_PARENT: the worker is the program's child, so the pool kills and reaps
// it as its own) and the clone runs the worker loop on that socket. A clone of a small
// idle process costs a fraction of a millisecond; an exec of the program costs the
// whole dynamic linking and static initialisation again.
//
// A server that finds itself with more than one thread (a static initialiser of the
// program started one) refuses every request with ENOTSUP, and the process starts its
// workers with an exec from then on.
//
// Requests (SOCK_SEQPACKET): one byte 'F' with the worker's end of its socket attached
// (SCM_RIGHTS); the reply is an i32: the worker's pid, or -errno.
#pragma once

#include <cstdint>

namespace weft::detail {

// How a worker start went: `pid` (a child of this process) or -errno; or, with `request`
// set, the clone was asked for and the fork server has not answered yet: ask
// worker_process_pid(request) once, before the pid is needed.
struct WorkerStart {
  int pid;
  std::uint64_t request;
};

// Starts a worker process serving the socket `child_end` (the caller keeps and closes its
// own copy). Starts or restarts the fork server when there is none yet, it died, this
// process was forked from the one that started it, or this process's user or group
// changed since; starts the worker directly instead (an exec of the program with `envp`,
// from worker_environment) when no fork server can run or the server refuses to clone.
// A server that has cloned a worker before is not waited for: the request is returned at
// once, and a clone that fails then closes the server's copy of `child_end` (the worker's
// socket reaches EOF with no worker behind it). Thread-safe; allocates only to start the
// server and to keep answers.
WorkerStart start_worker_process(int child_end, char** envp) noexcept;

// The answer to `request` (blocks until the fork server gives it): the worker's pid,
// -errno when it could not be cloned, 0 when the server went away first (the worker may
// or may not exist; its socket tells). Each request's answer is read once.
int worker_process_pid(std::uint64_t request) noexcept;

// The fork server's loop, in a process started as one (worker.cpp's static entry).
// Serves requests on `fd` until it reaches EOF, then exits.
[[noreturn]] void run_fork_server(int fd);

}  // namespace weft::detail
