// SPDX-License-Identifier: Apache-2.0
// weft/detail/thread_registry.hpp: the threads weft knows (L2), OS thread names, exit.
//
// Not part of the public API. Lists the main thread, every alive weft Thread and every
// dummy entry (threads weft did not start that called current_thread()).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "weft/detail/function_ref.hpp"

namespace weft::detail {

struct ThreadInfo {
  std::uint64_t ident;      // get_ident() of the thread (0 before it started)
  std::uint64_t native_id;  // gettid() of the thread (0 before it started)
  std::string_view name;    // valid only during the callback
  bool daemon;
  bool alive;
  const void* object;       // the Thread object (the WaitSite object of its joiners)
};

// Calls fn once per registered thread, with the registry's internal WordLock held.
// fn must not call any weft threading function (Thread members, current_thread, ...),
// park, fork, or use instrumented primitives; copying the fields out is the intended use.
void for_each_thread(FunctionRef<void(const ThreadInfo&)> fn);

// OS thread names (Linux: /proc/PID/task/TID/comm, as shown by top -H, gdb, perf).
// The kernel keeps 15 bytes. os_thread_name(name) is what weft gives it: `name` up to
// its first NUL byte if that fits; otherwise its head cut to the 15 bytes, never in
// the middle of a UTF-8 character, except that a trailing number group of up to 7
// bytes (digits with '-' and '_' between them: "-0_3" of "ThreadPoolExecutor-0_3")
// is kept after a shorter head, so that the workers of a pool stay apart:
// "ThreadPoolE-0_3".
std::string os_thread_name(std::string_view name);
// Gives the calling thread the OS name os_thread_name(name). Best effort: never throws,
// errors are ignored. For weft's internal threads that are not weft::Threads.
void set_current_os_thread_name(std::string_view name) noexcept;

// True once the process is exiting and weft's at-exit handler has joined the non-daemon
// threads: from then on only the exiting thread and daemon threads run, and static
// objects are about to be destroyed. Destructors of objects that daemon threads may
// still be inside check it (see Queue's "Exit" contract).
bool exit_began() noexcept;

}  // namespace weft::detail
