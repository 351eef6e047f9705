// SPDX-License-Identifier: Apache-2.0
// Python's threading._shutdown: at exit, the non-daemon threads still running are joined.
#include <atomic>
#include <cstdlib>

#include "threading/thread_state.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/keyboard_interrupt.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/thread_registry.hpp"

namespace weft::detail {
namespace {

std::atomic<bool> g_exit_began{false};

// The main thread counts as stopped first (so a thread joining main_thread() can
// finish), then every non-daemon thread still running is joined, also the ones they
// start meanwhile; daemon threads are abandoned.
void join_non_daemon_at_exit() {
  sigint_exit_join_began();  // a Ctrl-C from here on ends the process (status 130)
  NoInterruptScope uninterrupted;  // nothing else interrupts this join
  Registry& r = registry();
  ThreadRecord* me = tls_self;
  if (me != nullptr && me->main) {
    {
      WordLockGuard guard(r.lock);
      unregister(r, me);
      me->phase.store(kFinished, std::memory_order_release);
    }
    unpark_all(&me->phase);
  }
  for (;;) {
    RecordRef next;
    {
      WordLockGuard guard(r.lock);
      for (const auto& st : r.alive) {
        if (st.get() != me && !st->main && !st->dummy &&
            !st->daemon.load(std::memory_order_relaxed)) {
          next = st;
          break;
        }
      }
    }
    if (!next) break;
    wait_finished(*next);
  }
  g_exit_began.store(true, std::memory_order_release);
}

}  // namespace

void wait_finished(ThreadRecord& st) {
  while (st.phase.load(std::memory_order_acquire) != kFinished) {  // (T4)
    park(
        &st.phase, [&] { return st.phase.load(std::memory_order_relaxed) != kFinished; },
        kForever, WaitSite{st.object.load(std::memory_order_relaxed), ObjKind::thread, {}});
  }
}

void register_atexit_once(Registry& r) {
  bool first = false;
  {
    WordLockGuard guard(r.lock);
    first = !r.atexit_registered;
    r.atexit_registered = true;
  }
  if (first) std::atexit([] { join_non_daemon_at_exit(); });
}

bool exit_began() noexcept { return g_exit_began.load(std::memory_order_acquire); }

}  // namespace weft::detail
