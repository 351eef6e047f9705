// SPDX-License-Identifier: Apache-2.0
// The debug tools' settings (flags, lock-order mode, watchdog and trace settings, the
// report handler), their clock, and the report output.
#include <cstdio>

#include "debug/state.hpp"

namespace weft::detail::dbg {

std::atomic<std::uint64_t> g_epoch{1};
std::atomic<std::size_t> g_trace_capacity{16384};
std::string g_trace_path;

namespace {

// The trace's time base, fixed by the first call (start-up calls it before main()).
// Steady time: the tools show real time, also for threads of a virtual-time bubble.
Clock::time_point start_time() noexcept {
  static const Clock::time_point start = real_now();
  return start;
}

}  // namespace

Config& config() {
  static auto* c = new Config();
  return *c;
}
std::atomic<int> g_mode{static_cast<int>(Mode::report)};

WordLock& config_lock() noexcept { return config().lock; }

Nanos now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(real_now() - start_time()).count();
}
Nanos to_ns(Deadline t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t - start_time()).count();
}

void atomic_max(std::atomic<std::uint64_t>& a, std::uint64_t v) noexcept {
  std::uint64_t cur = a.load(std::memory_order_relaxed);
  while (cur < v && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

bool is_order_kind(ObjKind kind) noexcept { return kind == ObjKind::lock || kind == ObjKind::rlock; }

std::uint32_t flags() noexcept { return g_debug_flags.load(std::memory_order_relaxed); }

Mode current_mode() noexcept { return static_cast<Mode>(g_mode.load(std::memory_order_relaxed)); }

void emit_report(std::string_view kind, std::string_view text) {
  debug::ReportHandler handler;
  {
    WordLockGuard guard(config().lock);
    handler = config().handler;
  }
  if (handler) {
    handler(kind, text);
  } else {
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace weft::detail::dbg
