// SPDX-License-Identifier: Apache-2.0
// L1 parking lot: interrupts. An interrupt ends a sleeping or spinning interruptible park
// with kInterrupted (timed_out ran, the thread is off the queue), a reason pending before
// park() ends it at once, an interrupt racing an unpark never loses both, kNo parks ignore
// interrupts, the scope deadline ends a park as kInterrupted unless the own deadline is
// not later, and throw_interruption() throws what the pending reason means.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "support/blocking.hpp"
#include "support/scope_exit.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/thread_record_ref.hpp"
#include "weft/detail/tsan.hpp"
#include "weft/errors.hpp"

namespace {

using namespace std::chrono_literals;
using weft::detail::Clock;
using weft::detail::Interruptible;
using weft::detail::kForever;
using weft::detail::kInterruptKeyboard;
using weft::detail::kInterruptStop;
using weft::detail::ObjKind;
using weft::detail::park;
using weft::detail::ParkResult;
using weft::detail::ParkStatus;
using weft::detail::ThreadData;
using weft::detail::WaitSite;

const WaitSite kSite{nullptr, ObjKind::other, weft::detail::SourceLoc::current()};
constexpr std::uint32_t kAllReasons = ~std::uint32_t{0};

// Every test leaves the calling thread with no reason pending and no scope deadline.
struct CleanThread {
  ~CleanThread() {
    weft::detail::clear_interrupts(kAllReasons);
    weft::detail::set_scope_deadline(kForever);
  }
};

// Parks on `key` forever (interruptible unless told), recording timed_out's call.
struct Parker {
  const void* key;
  Interruptible interruptible = Interruptible::kYes;
  bool timed_out_ran = false;
  bool was_last = false;

  ParkResult operator()() {
    return park(
        key, [] { return true; }, [] {},
        [this](const void* k, bool last) {
          EXPECT_EQ(k, key);
          timed_out_ran = true;
          was_last = last;
        },
        kForever, kSite, 0, interruptible);
  }
};

TEST(ParkInterrupt, PendingBeforeParkEndsItAtOnce) {
  CleanThread clean;
  int key = 0;
  weft::detail::interrupt_thread(weft::detail::current_thread_data(), kInterruptStop);
  Parker parker{&key};
  const ParkResult r = parker();
  EXPECT_EQ(r.status, ParkStatus::kInterrupted);
  EXPECT_TRUE(parker.timed_out_ran) << "an interrupted park leaves through timed_out";
  EXPECT_TRUE(parker.was_last);
  EXPECT_FALSE(weft::detail::unpark_one(&key)) << "an interrupted thread stays queued";
  EXPECT_EQ(weft::detail::pending_interrupts(), kInterruptStop) << "park does not consume it";
}

// A thread that parks on `key` at once (a BlockedCall: join() is bounded by an unpark
// that ends a park still running, so the caller's checks fail instead of hanging).
class ParkingThread {
 public:
  explicit ParkingThread(const void* key, Interruptible interruptible = Interruptible::kYes)
      : parker_{key, interruptible},
        call_([this] { result_ = parker_(); }, [this] { weft::detail::unpark_all(parker_.key); }) {}

  ThreadData& data() const { return call_.data(); }
  long tid() const { return call_.tid(); }
  const Parker& parker() const { return parker_; }

  ParkResult join() {
    call_.join();
    return result_;
  }

 private:
  Parker parker_;
  ParkResult result_{};
  weft::testing::BlockedCall call_;
};

TEST(ParkInterrupt, WakesASleepingPark) {
  int key = 0;
  ParkingThread t(&key);
  ASSERT_TRUE(weft::testing::wait_until_parked_on(&key));
  // Until it sleeps in the kernel (its spin ends by itself; no time bound involved).
  ASSERT_TRUE(weft::testing::wait_until_asleep(t.tid()));
  weft::detail::interrupt_thread(t.data(), kInterruptStop);
  const ParkResult r = t.join();
  EXPECT_EQ(r.status, ParkStatus::kInterrupted);
  EXPECT_TRUE(t.parker().timed_out_ran);
  EXPECT_TRUE(t.parker().was_last);
  EXPECT_FALSE(weft::detail::unpark_one(&key)) << "an interrupted thread stays queued";
}

TEST(ParkInterrupt, InterruptRightAfterEnqueueingEndsThePark) {
  // The interrupt lands while the parker spins (or just before it looks at its reasons):
  // whichever, the park ends as kInterrupted and leaves the queue.
  for (int round = 0; round < 300; ++round) {
    int key = 0;
    ParkingThread t(&key);
    ASSERT_TRUE(weft::testing::wait_until_parked_on(&key)) << "round " << round;
    weft::detail::interrupt_thread(t.data(), kInterruptStop);
    const ParkResult r = t.join();
    ASSERT_EQ(r.status, ParkStatus::kInterrupted) << "round " << round;
    ASSERT_TRUE(t.parker().timed_out_ran) << "round " << round;
    ASSERT_FALSE(weft::detail::unpark_one(&key)) << "round " << round;
  }
}

TEST(ParkInterrupt, InterruptOfASpinningParkWord) {
  // before_sleep runs after the park announced itself (kSpinning) and before it looks at
  // its reasons: another thread's interrupt_thread there finds the word spinning, swaps
  // it without a wake-up, and the park ends as kInterrupted.
  CleanThread clean;
  int key = 0;
  ThreadData& me = weft::detail::current_thread_data();
  bool timed_out_ran = false;
  const ParkResult r = park(
      &key, [] { return true; },
      [&] { std::thread([&] { weft::detail::interrupt_thread(me, kInterruptStop); }).join(); },
      [&](const void*, bool) { timed_out_ran = true; }, kForever, kSite);
  EXPECT_EQ(r.status, ParkStatus::kInterrupted);
  EXPECT_TRUE(timed_out_ran);
  EXPECT_FALSE(weft::detail::unpark_one(&key));
}

TEST(ParkInterrupt, StaleInterruptWithoutReasonIsSleptThrough) {
  // An interrupt whose reason is gone by the time the parker looks (here: cleared in
  // before_sleep, after the interrupter swapped the word) does not end the park.
  CleanThread clean;
  int key = 0;
  ThreadData& me = weft::detail::current_thread_data();
  const std::uint64_t ident = weft::detail::current_ident();
  std::thread unparker;
  const ParkResult r = park(
      &key, [] { return true; },
      [&] {
        std::thread([&] { weft::detail::interrupt_thread(me, kInterruptStop); }).join();
        weft::detail::clear_interrupts(kInterruptStop);
        unparker = std::thread([&] {
          weft::testing::wait_until_parked(ident);
          weft::detail::unpark_one(&key, [](weft::detail::UnparkResult) -> weft::detail::ParkToken {
            return 7;
          });
        });
      },
      [](const void*, bool) {}, kForever, kSite);
  unparker.join();
  EXPECT_EQ(r.status, ParkStatus::kUnparked);
  EXPECT_EQ(r.token, 7u);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_TEST_SANITIZED 1
#endif
#endif
#if defined(WEFT_TSAN) || defined(__SANITIZE_ADDRESS__) || defined(WEFT_TEST_SANITIZED)
constexpr int kRaceRounds = 300;  // two thread starts per round: slow under the sanitizers
#else
constexpr int kRaceRounds = 2000;
#endif

TEST(ParkInterrupt, RaceWithUnparkLosesNothing) {
  // Each round a parker parks forever while one thread unparks it and another interrupts
  // it. Exactly one wins: unparked (the unparker saw it, the
  // reason stays pending) or interrupted (the unparker found nobody). Never both, never
  // neither (the interrupt always comes, so a lost unpark cannot hang the round).
  int unparked_rounds = 0;
  int interrupted_rounds = 0;
  for (int round = 0; round < kRaceRounds; ++round) {
    int key = 0;
    std::atomic<int> go{0};
    std::atomic<bool> sent{false};
    std::atomic<ThreadData*> data{nullptr};
    ParkResult r{};
    std::uint32_t left_pending = 0;
    std::thread parker([&] {
      CleanThread clean;
      data = &weft::detail::current_thread_data();
      while (round % 2 == 0 && go.load() == 0) std::this_thread::yield();
      r = park(&key, [] { return true; }, kForever, kSite);
      while (!sent.load()) std::this_thread::yield();
      left_pending = weft::detail::pending_interrupts();
    });
    while (data.load() == nullptr) std::this_thread::yield();
    bool unparked = false;
    std::thread unparker([&] {
      while (go.load() == 0) std::this_thread::yield();
      unparked = weft::detail::unpark_one(&key);
    });
    // Odd rounds race with an already parked thread, even ones with park() itself; the
    // interrupt comes a varying number of yields after the unparker was released.
    if (round % 2 == 1) {
      EXPECT_TRUE(weft::testing::wait_until_parked_on(&key)) << "round " << round;
    }
    go = 1;
    for (int i = 0; i < (round / 2) % 4; ++i) std::this_thread::yield();
    weft::detail::interrupt_thread(*data.load(), kInterruptStop);
    sent = true;
    unparker.join();
    parker.join();
    ASSERT_TRUE(r.status == ParkStatus::kUnparked || r.status == ParkStatus::kInterrupted)
        << "round " << round;
    ASSERT_EQ(unparked, r.status == ParkStatus::kUnparked) << "round " << round;
    ASSERT_EQ(left_pending, kInterruptStop) << "round " << round;
    ASSERT_FALSE(weft::detail::unpark_one(&key)) << "round " << round;
    (unparked ? unparked_rounds : interrupted_rounds)++;
  }
  std::printf("unparked %d rounds, interrupted %d rounds\n", unparked_rounds, interrupted_rounds);
}

TEST(ParkInterrupt, NotInterruptibleIgnoresInterruptsAndScopeDeadline) {
  CleanThread clean;
  int key = 0;
  ThreadData& me = weft::detail::current_thread_data();
  weft::detail::interrupt_thread(me, kInterruptStop);  // pending before the park
  weft::detail::set_scope_deadline(Clock::now());      // passed before the park
  Parker parker{&key, Interruptible::kNo};
  const ParkResult r = weft::testing::expect_blocks_until(
      [&] { return parker(); },
      [&] {
        weft::detail::interrupt_thread(me, kInterruptStop);  // delivered while parked
        EXPECT_TRUE(weft::detail::unpark_one(&key)) << "the kNo park stays queued";
      });
  EXPECT_EQ(r.status, ParkStatus::kUnparked);
  EXPECT_FALSE(parker.timed_out_ran);

  // Own deadline: kTimedOut although the scope deadline passed long before.
  const ParkResult timed = park(
      &key, [] { return true; }, Clock::now() + 1ms, kSite, Interruptible::kNo);
  EXPECT_EQ(timed.status, ParkStatus::kTimedOut);
}

TEST(ParkInterrupt, NoInterruptScopeMakesParksNotInterruptible) {
  CleanThread clean;
  int key = 0;
  ThreadData& me = weft::detail::current_thread_data();
  weft::detail::interrupt_thread(me, kInterruptStop);
  weft::detail::set_scope_deadline(Clock::now());
  {
    weft::detail::NoInterruptScope outer;
    weft::detail::NoInterruptScope inner;  // nests
    Parker parker{&key};                   // Interruptible::kYes
    const ParkResult r = weft::testing::expect_blocks_until(
        [&] { return parker(); },
        [&] {
          weft::detail::interrupt_thread(me, kInterruptStop);
          EXPECT_TRUE(weft::detail::unpark_one(&key));
        });
    EXPECT_EQ(r.status, ParkStatus::kUnparked);
  }
  // Outside the scopes, the pending reason ends the next park again.
  EXPECT_EQ(park(&key, [] { return true; }, kForever, kSite).status, ParkStatus::kInterrupted);
}

TEST(ParkInterrupt, ScopeDeadlineVersusOwnDeadline) {
  CleanThread clean;
  int key = 0;
  auto park_until = [&](weft::detail::Deadline own) {
    return park(&key, [] { return true; }, own, kSite).status;
  };
  // The scope's deadline first: kInterrupted, not before it.
  auto scope = Clock::now() + 2ms;
  weft::detail::set_scope_deadline(scope);
  EXPECT_EQ(park_until(kForever), ParkStatus::kInterrupted);
  EXPECT_GE(Clock::now(), scope);
  EXPECT_TRUE(weft::detail::interruption_pending());
  EXPECT_THROW(weft::detail::throw_interruption(), weft::TimeoutError);
  // Already passed: kInterrupted at once, also for a timed park.
  EXPECT_EQ(park_until(Clock::now() + 1h), ParkStatus::kInterrupted);
  // The own deadline first, or equal: kTimedOut.
  weft::detail::set_scope_deadline(Clock::now() + 1h);
  EXPECT_FALSE(weft::detail::interruption_pending());
  EXPECT_EQ(park_until(Clock::now() + 1ms), ParkStatus::kTimedOut);
  const auto both = Clock::now() + 1ms;
  weft::detail::set_scope_deadline(both);
  EXPECT_EQ(park_until(both), ParkStatus::kTimedOut);
  // A non-blocking try (deadline already passed) is the own deadline's.
  EXPECT_EQ(park_until(weft::detail::kImmediate), ParkStatus::kTimedOut);
  EXPECT_FALSE(weft::detail::unpark_one(&key));
}

TEST(ParkInterrupt, ThrowInterruptionSaysWhy) {
  CleanThread clean;
  ThreadData& me = weft::detail::current_thread_data();
  weft::detail::interrupt_thread(me, kInterruptStop | kInterruptKeyboard);
  // KeyboardInterrupt first, consumed; it is not a weft::Error.
  try {
    weft::detail::throw_interruption();
    ADD_FAILURE() << "nothing thrown";
  } catch (const weft::Error&) {
    ADD_FAILURE() << "KeyboardInterrupt must not be a weft::Error";
  } catch (const weft::KeyboardInterrupt& e) {
    EXPECT_STREQ(e.what(), "KeyboardInterrupt");
  }
  EXPECT_EQ(weft::detail::pending_interrupts(), kInterruptStop);
  // A stop is not consumed: every later blocking call in the scope throws too.
  EXPECT_THROW(weft::detail::throw_interruption(), weft::CancelledError);
  EXPECT_THROW(weft::detail::throw_interruption(), weft::CancelledError);
  EXPECT_TRUE(weft::detail::interruption_pending());
  weft::detail::clear_interrupts(kInterruptStop);
  EXPECT_FALSE(weft::detail::interruption_pending());
}

TEST(ParkInterrupt, MainThreadRecord) {
  // gtest runs tests on the process's main thread.
  EXPECT_EQ(&weft::detail::main_thread_data(), &weft::detail::current_thread_data());
  ThreadData* other = nullptr;
  std::thread([&] { other = &weft::detail::current_thread_data(); }).join();
  EXPECT_NE(other, &weft::detail::main_thread_data());
}

TEST(ParkInterrupt, ForkingThreadIsTheChildsMainThread) {
  int status = -1;
  std::thread([&] {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const bool main = &weft::detail::main_thread_data() == &weft::detail::current_thread_data();
      ::_exit(main ? 0 : 1);
    }
    ::waitpid(pid, &status, 0);
  }).join();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the forking thread must be the child's main thread";
}

}  // namespace
