// SPDX-License-Identifier: Apache-2.0
// L0 wait layer: Linux futex and the portable mutex + condition-variable fallback.
//
// The backend is picked once per process (see weft/detail/wait.hpp). Both backends
// treat the word's address as a key only and never dereference it when waking, so a
// waker may wake an address whose owner has just been freed.
#include "weft/detail/wait.hpp"

#include <array>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <new>

#include <pthread.h>

#include "wait/fork_locked_table.hpp"

#if defined(__linux__) && !defined(WEFT_FORCE_FALLBACK_WAIT)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#define WEFT_HAVE_FUTEX 1
#else
#define WEFT_HAVE_FUTEX 0
#endif

namespace weft::detail {
namespace {

// ---- fallback: a fixed table of buckets, each a mutex and a condition variable ----

struct alignas(64) FallbackBucket {
  std::mutex mutex;
  std::condition_variable cv;
};

constexpr std::size_t kFallbackBuckets = 64;

std::array<FallbackBucket, kFallbackBuckets>* g_fallback_table = nullptr;

// fork(): no bucket mutex may be held by another thread across fork(), and the child
// gets fresh condition variables (the old ones may count waiters that do not exist
// there, which would make a notify wait for them forever).
void reset_fallback_bucket_in_child(FallbackBucket& b) noexcept {
  new (&b.cv) std::condition_variable();  // the old one is abandoned, not destroyed
}
using FallbackFork =
    ForkLockedTable<g_fallback_table, &FallbackBucket::mutex, reset_fallback_bucket_in_child>;

FallbackBucket& fallback_bucket(const void* addr) noexcept {
  // Leaked on purpose: waits may still run while static destructors do.
  static auto* table = [] {
    g_fallback_table = new std::array<FallbackBucket, kFallbackBuckets>();
    ::pthread_atfork(FallbackFork::prepare, FallbackFork::parent, FallbackFork::child);
    return g_fallback_table;
  }();
  const auto h = (reinterpret_cast<std::uintptr_t>(addr) >> 2) * 0x9E3779B97F4A7C15ull;
  return (*table)[h >> 58];  // top 6 bits: 64 buckets
}

// Created during static initialisation (see g_buckets_ready in the parking lot).
[[maybe_unused]] const bool g_fallback_ready = (fallback_bucket(nullptr), true);

WaitResult fallback_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                         Deadline deadline) noexcept {
  FallbackBucket& b = fallback_bucket(&word);
  std::unique_lock<std::mutex> guard(b.mutex);
  // The waker changes the word before it takes this mutex, so reading it here under
  // the mutex cannot miss a wake that follows.
  if (word.load(std::memory_order_acquire) != expected) return WaitResult::mismatch;
  if (deadline == kForever) {
    b.cv.wait(guard);
    return WaitResult::woken;
  }
  if (b.cv.wait_until(guard, to_steady(deadline)) == std::cv_status::timeout)
    return WaitResult::timed_out;
  return WaitResult::woken;
}

void fallback_wake(const std::atomic<std::uint32_t>& word) noexcept {
  FallbackBucket& b = fallback_bucket(&word);
  { std::lock_guard<std::mutex> guard(b.mutex); }
  // Buckets are shared by many addresses, so wake everyone; each re-checks its word.
  b.cv.notify_all();
}

#if WEFT_HAVE_FUTEX
long futex(const std::atomic<std::uint32_t>* word, int op, std::uint32_t val,
           const struct timespec* ts, std::uint32_t val3) noexcept {
  return syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(word), op, val, ts, nullptr,
                 val3);
}

WaitResult futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      Deadline deadline) noexcept {
  struct timespec ts {};
  const struct timespec* tsp = nullptr;
  if (deadline != kForever) {
    // steady_clock is CLOCK_MONOTONIC on Linux; FUTEX_WAIT_BITSET takes an absolute
    // CLOCK_MONOTONIC deadline, so a wake-up never stretches the total wait.
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        deadline.time_since_epoch())
                        .count();
    if (ns <= 0) return WaitResult::timed_out;
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  const long rc = futex(&word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, tsp,
                        FUTEX_BITSET_MATCH_ANY);
  if (rc == 0) return WaitResult::woken;
  switch (errno) {
    case EAGAIN:
      return WaitResult::mismatch;
    case ETIMEDOUT:
      return WaitResult::timed_out;
    default:  // EINTR and anything else: a spurious wake-up, the caller re-checks
      return WaitResult::woken;
  }
}

void futex_wake(const std::atomic<std::uint32_t>& word, bool all) noexcept {
  futex(&word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, all ? INT_MAX : 1, nullptr, 0);
}
#endif

bool use_fallback() noexcept {
#if WEFT_HAVE_FUTEX
  static const bool fallback = [] {
    const char* env = std::getenv("WEFT_WAIT_BACKEND");
    return env != nullptr && std::strcmp(env, "fallback") == 0;
  }();
  return fallback;
#else
  return true;
#endif
}

}  // namespace

WaitResult wait_on_address(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                           Deadline deadline) noexcept {
#if WEFT_HAVE_FUTEX
  if (!use_fallback()) return futex_wait(word, expected, deadline);
#endif
  return fallback_wait(word, expected, deadline);
}

void wake_by_address(const std::atomic<std::uint32_t>& word, bool all) noexcept {
#if WEFT_HAVE_FUTEX
  if (!use_fallback()) return futex_wake(word, all);
#endif
  (void)all;
  fallback_wake(word);
}

const char* wait_backend_name() noexcept { return use_fallback() ? "fallback" : "futex"; }

void ensure_wait_layer_ready() noexcept { (void)fallback_bucket(nullptr); }

}  // namespace weft::detail
