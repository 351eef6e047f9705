// weft/detail/thread_registry.hpp: the threads weft knows, for the debug tools (L5).
//
// Not part of the public API. Lists the main thread, every alive weft Thread and every
// dummy entry (threads weft did not start that called current_thread()).
#pragma once

#include <cstdint>
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

}  // namespace weft::detail
