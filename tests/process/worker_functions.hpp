// SPDX-License-Identifier: Apache-2.0
// Plain functions the process-pool tests submit to their workers, shared by the test files
// of this folder (one definition each: the folder's files are compiled together in a unity
// build).
#pragma once

#include <csignal>

#include <unistd.h>

namespace weft_process_tests {

inline int square(int x) { return x * x; }
// The pid of the worker that runs it.
inline int worker_pid() { return static_cast<int>(::getpid()); }
// Kills the worker that runs it (the pool sees the worker die mid-task).
inline int die_by_sigkill(int) {
  ::raise(SIGKILL);
  return 0;
}

}  // namespace weft_process_tests
