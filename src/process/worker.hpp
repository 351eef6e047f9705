// SPDX-License-Identifier: Apache-2.0
// src/process/worker.hpp: a process pool's worker processes, private to src/process.
//
// A worker is a clone of this program's fork server (fork_server.hpp), or, when no fork
// server can run, this same program started with posix_spawn of /proc/self/exe, with its
// end of a socket as descriptor kWorkerFd and kWorkerEnv=<that descriptor> in its
// environment. Before main(), weft sees kWorkerEnv and runs the worker loop (or, for
// kWorkerEnv=kForkServerMarker, the fork server's loop on kWorkerFd) instead of the
// program. Why never a fork of the program itself: see the class comment in
// weft/process.hpp.
//
// Messages (both directions, framed as in framing.hpp), wire-encoded:
//   parent -> worker  'H' hello: u64 max_tasks, u8 has_initializer, [CodeRef initializer]
//                     'T' task:  u64 id, CodeRef invoker, CodeRef fn, argument bytes
//   worker -> parent  'R' result: u64 id, result bytes
//                     'E' error:  u64 id, string type, string message
//                     'I' initializer failed: string "Type: message"
// A worker serves one task at a time, so when its socket reaches EOF without a result
// the parent knows exactly which task died with it.
#pragma once

#include <string>
#include <vector>

namespace weft::detail {

inline constexpr int kWorkerFd = 3;  // the worker's end of its socket, in the worker
inline constexpr const char* kWorkerEnv = "WEFT_PROCESS_WORKER";
// kWorkerEnv's values for a fork server; the second one when weft added LD_BIND_NOW=1 to
// its environment (every symbol bound once in the server, not again in each clone), which
// the server removes again so that its workers do not inherit it.
inline constexpr const char* kForkServerMarker = "fork-server";
inline constexpr const char* kForkServerBindNowMarker = "fork-server-bind-now";

// The environment of a new worker or fork server: this process's, without any kWorkerEnv
// entry, plus kWorkerEnv=value (kept in `marker`), null-terminated. Throws std::bad_alloc.
std::vector<char*> worker_environment(std::string& marker, const char* value);
// kWorkerEnv's value for a worker started with spawn_program.
inline constexpr const char* kWorkerMarker = "3";
static_assert(kWorkerFd == 3);

// posix_spawn of this program with `envp`, whose descriptor kWorkerFd is `child_end`
// (it gets no other descriptor of ours but stdin, stdout and stderr). Returns the pid,
// or -errno.
int spawn_program(int child_end, char** envp) noexcept;

// The worker loop on socket `fd`: serves tasks until the socket reaches EOF or
// max_tasks_per_child is reached, then exits the process.
[[noreturn]] void run_worker(int fd);

}  // namespace weft::detail
