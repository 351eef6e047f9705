// SPDX-License-Identifier: Apache-2.0
// src/process/worker.hpp: a process pool's worker processes, private to src/process.
//
// A worker is this same program, started with posix_spawn of /proc/self/exe (why not
// fork: see the class comment in weft/process.hpp), with its end of a socket as
// descriptor kWorkerFd and kWorkerEnv=<that descriptor> in its environment. Before
// main(), weft sees kWorkerEnv and runs the worker loop instead of the program.
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

// The environment of a new worker: this process's, without any kWorkerEnv entry, plus
// kWorkerEnv=kWorkerFd (kept in `marker`), null-terminated. Throws std::bad_alloc.
std::vector<char*> worker_environment(std::string& marker);

// posix_spawn of this program as a worker whose socket is `child_end` (fd kWorkerFd
// in the worker, which gets no other descriptor of ours but stdin, stdout and stderr).
// Returns the pid, or -errno.
int spawn_worker_process(int child_end, char** envp) noexcept;

}  // namespace weft::detail
