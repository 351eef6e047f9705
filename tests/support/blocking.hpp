// SPDX-License-Identifier: Apache-2.0
// Test support: prove that a call really blocked, and cut it short.
//
// poll_until(done) polls a condition until it holds (bounded, so a broken call fails the
// test instead of hanging it); wait_until_parked / wait_until_parked_on / wait_until_asleep
// are its common conditions: a thread parked in weft's parking lot (by ident, by key, or
// any match), a thread asleep in the kernel. No sleep is a trigger here.
//
// expect_blocks_until(block_fn, trigger_fn) runs block_fn on the calling thread. A
// helper thread waits until the caller is parked in weft's parking lot (so it really
// blocked, no sleep involved), then runs trigger_fn. block_fn must not return before
// trigger_fn has finished; if it does, the test fails. (The idea of CPython's
// BlockingTestMixin, without its sleep.)
//
// BlockedCall runs one call on its own thread and records how it ended (returned,
// CancelledError, or another exception). A test waits until the thread is parked,
// interrupts it (detail::interrupt_thread with kInterruptStop, what a stop request on a
// live CancelScope delivers) or releases it, and joins it; join() is bounded by a rescue
// that must make the call return (release what it waits for), so a broken call fails the
// test instead of hanging it. interrupt_blocked() is the whole sequence in one call.
#pragma once

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "weft/detail/parking_lot.hpp"
#include "weft/detail/thread_record_ref.hpp"
#include "weft/detail/tsan.hpp"
#include "weft/errors.hpp"

// Skips a test that sends SIGINT to a thread blocked in weft, under ThreadSanitizer only.
// TSan's own SIGINT handler defers weft's to the thread's next intercepted call, and a
// call parked in an untimed futex wait makes none (the kernel restarts the wait), so the
// blocked thread never sees the signal. Release, the fallback wait backend and
// ASan+UBSan run these tests.
#if defined(WEFT_TSAN)
#define WEFT_SKIP_CTRL_C_UNDER_TSAN() \
  GTEST_SKIP() << "ThreadSanitizer defers signal handlers past an untimed futex wait"
#else
#define WEFT_SKIP_CTRL_C_UNDER_TSAN() static_cast<void>(0)
#endif

namespace weft::testing {

// How long the waits below poll before they give up: far beyond what a correct call
// needs on a loaded machine under ThreadSanitizer.
inline constexpr std::chrono::milliseconds kPollLimit = std::chrono::seconds(60);

// Evaluates done() until it returns true (then true) or `limit` passed (then false),
// yielding between tries, or pausing `pause` when it is not zero (for conditions that
// are costly to evaluate, such as a question to a server).
template <class Done>
bool poll_until(Done&& done, std::chrono::milliseconds limit = kPollLimit,
                std::chrono::milliseconds pause = std::chrono::milliseconds(0)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    if (pause.count() > 0) {
      std::this_thread::sleep_for(pause);
    } else {
      std::this_thread::yield();
    }
  }
  return true;
}

// How many threads are parked right now for which match(const detail::ParkedThread&) holds.
template <class Match>
std::size_t count_parked(Match&& match) {
  std::size_t n = 0;
  weft::detail::for_each_parked([&](const weft::detail::ParkedThread& t) {
    if (match(t)) ++n;
  });
  return n;
}

// True when the thread with this ident is parked right now.
inline bool is_parked(std::uint64_t ident) {
  return count_parked([&](const weft::detail::ParkedThread& t) { return t.ident == ident; }) > 0;
}

// Where the thread with this ident is parked right now; nothing when it is not parked.
inline std::optional<weft::detail::WaitSite> parked_site(std::uint64_t ident) {
  std::optional<weft::detail::WaitSite> site;
  weft::detail::for_each_parked([&](const weft::detail::ParkedThread& t) {
    if (t.ident == ident) site = t.site;
  });
  return site;
}

// Polls until at least `n` parked threads match; false after `limit`.
template <class Match>
bool wait_until_parked_where(Match&& match, std::size_t n = 1,
                             std::chrono::milliseconds limit = kPollLimit) {
  return poll_until([&] { return count_parked(match) >= n; }, limit);
}

// Polls until the thread is parked; false after `limit`.
inline bool wait_until_parked(std::uint64_t ident, std::chrono::milliseconds limit = kPollLimit) {
  return poll_until([&] { return is_parked(ident); }, limit);
}

// True when the thread with this ident is parked right now in a wait on `object` (the
// object of its WaitSite). Unlike is_parked, a thread parked on the way in does not count:
// one that waits for a Condition's lock before cond.wait(), or for a Barrier's or Queue's
// internal lock, is not yet parked in the wait a notify must find.
inline bool is_parked_in(std::uint64_t ident, const void* object) {
  const std::optional<weft::detail::WaitSite> site = parked_site(ident);
  return site.has_value() && site->object == object;
}

// Polls until the thread is parked in a wait on `object` (is_parked_in); false after `limit`.
inline bool wait_until_parked_in(std::uint64_t ident, const void* object,
                                 std::chrono::milliseconds limit = kPollLimit) {
  return poll_until([&] { return is_parked_in(ident, object); }, limit);
}

// Polls until at least `n` threads are parked on `key`; false after `limit`.
inline bool wait_until_parked_on(const void* key, std::size_t n = 1,
                                 std::chrono::milliseconds limit = kPollLimit) {
  return wait_until_parked_where([&](const weft::detail::ParkedThread& t) { return t.key == key; },
                                 n, limit);
}

// Linux: the scheduler state of a thread of this process ('S' asleep, 'R' running; '?'
// when it cannot be read, e.g. the thread is gone).
inline char thread_state(long tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() ? '?' : line[close + 2];
}

// The calling thread's kernel thread id (for thread_state).
inline long current_tid() { return static_cast<long>(::syscall(SYS_gettid)); }

// Polls until the thread sleeps in the kernel; false after `limit`.
inline bool wait_until_asleep(long tid, std::chrono::milliseconds limit = kPollLimit) {
  return poll_until([&] { return thread_state(tid) == 'S'; }, limit);
}

template <class Block, class Trigger>
decltype(auto) expect_blocks_until(Block&& block_fn, Trigger&& trigger_fn) {
  std::atomic<bool> triggered{false};
  std::atomic<bool> parked_seen{false};
  const std::uint64_t me = weft::detail::current_ident();
  std::thread helper([&] {
    parked_seen = wait_until_parked(me);
    // Marked before the trigger runs: once it runs, block_fn may return at any moment.
    triggered.store(true, std::memory_order_release);
    trigger_fn();
  });
  struct Joiner {
    std::thread& t;
    ~Joiner() { t.join(); }
  } joiner{helper};
  if constexpr (std::is_void_v<decltype(block_fn())>) {
    block_fn();
    EXPECT_TRUE(triggered.load(std::memory_order_acquire))
        << "the call returned before its trigger ran: it did not block";
    EXPECT_TRUE(parked_seen.load()) << "the call never parked";
  } else {
    auto result = block_fn();
    EXPECT_TRUE(triggered.load(std::memory_order_acquire))
        << "the call returned before its trigger ran: it did not block";
    EXPECT_TRUE(parked_seen.load()) << "the call never parked";
    return result;
  }
}

// Runs body() on the calling thread. If it has not returned after `bound` (far beyond
// what a correct body needs), a guard thread calls rescue(), which must make body
// return (release what it waits for), so that a broken call fails the test instead of
// hanging it. Returns: true if rescue() had to run.
template <class Body, class Rescue>
bool run_with_rescue(Body&& body, Rescue&& rescue,
                     std::chrono::milliseconds bound = std::chrono::seconds(20)) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  bool rescued = false;
  std::thread guard([&] {
    std::unique_lock lk(m);
    if (!cv.wait_for(lk, bound, [&] { return done; })) {
      rescued = true;
      lk.unlock();
      rescue();
    }
  });
  struct Finish {
    std::mutex& m;
    std::condition_variable& cv;
    bool& done;
    std::thread& guard;
    ~Finish() {
      {
        std::scoped_lock lk(m);
        done = true;
      }
      cv.notify_all();
      guard.join();
    }
  } finish{m, cv, done, guard};
  body();
  return rescued;
}

enum class Outcome { kRunning, kReturned, kCancelled, kOtherError };

inline const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::kRunning: return "running";
    case Outcome::kReturned: return "returned";
    case Outcome::kCancelled: return "CancelledError";
    case Outcome::kOtherError: return "another exception";
  }
  return "?";
}

class BlockedCall {
 public:
  // Starts `call` at once on a new thread. `rescue` must make a still blocked call return
  // (empty: interrupt the call's thread again). The thread clears its interrupt reasons
  // and its scope deadline before it ends.
  explicit BlockedCall(std::function<void()> call, std::function<void()> rescue = {})
      : rescue_(rescue ? std::move(rescue) : [this] { interrupt(); }),
        thread_([this, call = std::move(call)] {
          // interrupt() needs the thread's record alive, also after the thread ended.
          record_ = weft::detail::RecordRef(&weft::detail::current_thread_data());
          ident_ = weft::detail::current_ident();
          tid_ = current_tid();
          data_.store(record_.get(), std::memory_order_release);
          try {
            call();
            outcome_.store(Outcome::kReturned);
          } catch (const weft::CancelledError&) {
            outcome_.store(Outcome::kCancelled);
          } catch (...) {
            error_ = std::current_exception();
            outcome_.store(Outcome::kOtherError);
          }
          weft::detail::clear_interrupts(~std::uint32_t{0});
          weft::detail::set_scope_deadline(weft::detail::kForever);
        }) {
    while (data_.load(std::memory_order_acquire) == nullptr) std::this_thread::yield();
  }
  ~BlockedCall() {
    if (thread_.joinable()) join();
  }
  BlockedCall(const BlockedCall&) = delete;
  BlockedCall& operator=(const BlockedCall&) = delete;

  // Waits until the call is parked in the parking lot; false after kPollLimit.
  [[nodiscard]] bool wait_parked() const { return wait_until_parked(ident_); }
  // Waits until the call is parked in a wait on `object` (is_parked_in): needed when the
  // call may park on another object first (a Condition's lock); false after kPollLimit.
  [[nodiscard]] bool wait_parked_in(const void* object) const {
    return wait_until_parked_in(ident_, object);
  }
  // Delivers a stop request to the call's thread (it may be parked or about to park).
  void interrupt() const {
    weft::detail::interrupt_thread(data(), weft::detail::kInterruptStop);
  }
  // Joins the thread (rescued after 20 s) and returns how the call ended.
  Outcome join() {
    rescued_ = run_with_rescue([&] { thread_.join(); }, rescue_);
    return outcome_.load();
  }
  bool rescued() const { return rescued_; }
  std::exception_ptr error() const { return error_; }
  // The call's thread: its record (alive as long as this object), weft ident, kernel tid.
  weft::detail::ThreadData& data() const { return *data_.load(std::memory_order_acquire); }
  std::uint64_t ident() const { return ident_; }
  long tid() const { return tid_; }

 private:
  std::function<void()> rescue_;
  weft::detail::RecordRef record_;  // written by the thread before data_
  std::uint64_t ident_ = 0;         // likewise
  long tid_ = 0;                    // likewise
  std::atomic<weft::detail::ThreadData*> data_{nullptr};
  std::atomic<Outcome> outcome_{Outcome::kRunning};
  std::exception_ptr error_;
  bool rescued_ = false;
  std::thread thread_;
};

// Starts `call` on a thread, waits until it parks, interrupts it and returns how it ended.
inline Outcome interrupt_blocked(std::function<void()> call, std::function<void()> rescue = {}) {
  BlockedCall blocked(std::move(call), std::move(rescue));
  EXPECT_TRUE(blocked.wait_parked()) << "the call never parked";
  blocked.interrupt();
  const Outcome o = blocked.join();
  EXPECT_FALSE(blocked.rescued()) << "the interrupt did not end the call";
  return o;
}

}  // namespace weft::testing
