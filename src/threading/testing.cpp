// SPDX-License-Identifier: Apache-2.0
// weft::testing::run and wait (<weft/testing.hpp>); the bubble is src/park/bubble.cpp.
#include "weft/testing.hpp"

#include <exception>
#include <string>

#include "weft/detail/bubble.hpp"
#include "weft/thread.hpp"

namespace weft {
namespace detail {

void run_in_bubble(FunctionRef<void()> fn) {
  namespace wd = weft::detail;
  if (wd::current_bubble_slot() != nullptr)
    throw RuntimeError("testing::run: already inside a bubble (bubbles do not nest)");
  struct Owner {
    wd::Bubble* bubble = wd::bubble_create();
    ~Owner() { wd::bubble_release(bubble); }
  } owner;
  std::exception_ptr error;
  {
    Thread root(
        ThreadOptions{"testing::run"}, [&] {
          try {
            fn();
          } catch (...) {
            error = std::current_exception();
          }
        });
    wd::set_bubble_for_new_threads(owner.bubble);
    try {
      root.start();
    } catch (...) {
      wd::set_bubble_for_new_threads(nullptr);
      throw;
    }
    wd::set_bubble_for_new_threads(nullptr);
    wd::bubble_wait_finished(*owner.bubble);
    root.join();
  }
  std::string deadlock = wd::bubble_deadlock_text(*owner.bubble);
  if (!deadlock.empty()) throw testing::Deadlock(deadlock);
  if (error) std::rethrow_exception(error);
}

}  // namespace detail

void testing::wait() { detail::bubble_wait_others_blocked(); }

}  // namespace weft
