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

namespace weft::detail {

// Starts a worker process serving the socket `child_end` (the caller keeps and closes its
// own copy). Starts or restarts the fork server when there is none yet, it died, this
// process was forked from the one that started it, or this process's user or group
// changed since; starts the worker directly instead (an exec of the program with `envp`,
// from worker_environment) when no fork server can run or the server refuses to clone.
// Returns the pid (a child of this process), or -errno. Thread-safe; allocates only to
// start the server.
int start_worker_process(int child_end, char** envp) noexcept;

// The fork server's loop, in a process started as one (worker.cpp's static entry).
// Serves requests on `fd` until it reaches EOF, then exits.
[[noreturn]] void run_fork_server(int fd);

}  // namespace weft::detail
