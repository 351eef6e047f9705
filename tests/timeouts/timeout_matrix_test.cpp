// SPDX-License-Identifier: Apache-2.0
// The timeout matrix: every blocking call of Lock, RLock, Condition, Semaphore,
// BoundedSemaphore, Event and Barrier, in every timeout form, in every outcome:
//   times out            the call gives up: false (Barrier: BrokenBarrierError); a finite
//                        timeout waits at least that long, the immediate forms do not block
//   succeeds at once     the object is available before the call: it succeeds
//   succeeds when        the call blocks until another thread makes the object available
//   triggered            (proved with expect_blocks_until, no sleeps)
// Each row of the table carries its __FILE__/__LINE__, printed when it fails.
// "Times out" runs in virtual time (weft::testing::run), where a finite timeout waits
// exactly its length and an immediate form not at all, whatever the machine's load; the
// rows with a small finite timeout also run once on the real clock.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "support/blocking.hpp"
#include "weft/barrier.hpp"
#include "weft/condition.hpp"
#include "weft/errors.hpp"
#include "weft/event.hpp"
#include "weft/lock.hpp"
#include "weft/rlock.hpp"
#include "weft/semaphore.hpp"
#include "weft/testing.hpp"

using namespace std::chrono_literals;

namespace {

constexpr auto kSmallTimeout = 20ms;

// How the blocking call is made.
enum class Form {
  kNonBlocking,       // acquire(false)
  kTryLock,           // try_lock()
  kZero,              // f(0s)
  kNegative,          // f(-1s)
  kTryLockForNeg,     // try_lock_for(-1s)
  kPastSteady,        // try_lock_until(steady_clock::now() - 1s)
  kPastSystem,        // try_lock_until(system_clock::now() - 1s)
  kSmall,             // f(20ms)
  kTryLockForSmall,   // try_lock_for(20ms)
  kLong,              // f(1h)
  kHuge,              // f(hours::max())
  kForever,           // f() with no timeout
  kSteadyMax,         // try_lock_until(steady_clock::time_point::max())
  kSystemMax,         // try_lock_until(system_clock::time_point::max())
};

const char* form_name(Form f) {
  switch (f) {
    case Form::kNonBlocking: return "NonBlocking";
    case Form::kTryLock: return "TryLock";
    case Form::kZero: return "Zero";
    case Form::kNegative: return "Negative";
    case Form::kTryLockForNeg: return "TryLockForNegative";
    case Form::kPastSteady: return "PastSteadyTimePoint";
    case Form::kPastSystem: return "PastSystemTimePoint";
    case Form::kSmall: return "Small";
    case Form::kTryLockForSmall: return "TryLockForSmall";
    case Form::kLong: return "Long";
    case Form::kHuge: return "HoursMax";
    case Form::kForever: return "Forever";
    case Form::kSteadyMax: return "SteadyTimePointMax";
    case Form::kSystemMax: return "SystemTimePointMax";
  }
  return "?";
}

bool is_small(Form f) { return f == Form::kSmall || f == Form::kTryLockForSmall; }

// The call in form f on a lock-like object (Lock, RLock, Condition, Semaphore).
template <class L>
bool lock_call(L& l, Form f) {
  switch (f) {
    case Form::kNonBlocking: return l.acquire(false);
    case Form::kTryLock: return l.try_lock();
    case Form::kZero: return l.acquire(0s);
    case Form::kNegative: return l.acquire(-1s);
    case Form::kTryLockForNeg: return l.try_lock_for(-1s);
    case Form::kPastSteady: return l.try_lock_until(std::chrono::steady_clock::now() - 1s);
    case Form::kPastSystem: return l.try_lock_until(std::chrono::system_clock::now() - 1s);
    case Form::kSmall: return l.acquire(kSmallTimeout);
    case Form::kTryLockForSmall: return l.try_lock_for(kSmallTimeout);
    case Form::kLong: return l.acquire(1h);
    case Form::kHuge: return l.acquire(std::chrono::hours::max());
    case Form::kForever: return l.acquire();
    case Form::kSteadyMax: return l.try_lock_until(std::chrono::steady_clock::time_point::max());
    case Form::kSystemMax: return l.try_lock_until(std::chrono::system_clock::time_point::max());
  }
  return false;
}

// The call in form f on a waitable (Event, Condition::wait, Barrier::wait): duration forms
// only. Returns what the call returned.
template <class W>
bool wait_call(W&& wait, Form f) {
  switch (f) {
    case Form::kZero: return wait(std::optional<std::chrono::hours>(0h));
    case Form::kNegative: return wait(std::optional<std::chrono::seconds>(-1s));
    case Form::kSmall: return wait(std::optional<std::chrono::milliseconds>(kSmallTimeout));
    case Form::kLong: return wait(std::optional<std::chrono::hours>(1h));
    case Form::kHuge: return wait(std::optional<std::chrono::hours>(std::chrono::hours::max()));
    case Form::kForever: return wait(std::optional<std::chrono::hours>());
    default: ADD_FAILURE() << "no such form for a wait"; return false;
  }
}

// One object in the state where the call blocks. make_available() (before the call) and
// trigger() (from another thread while the call blocks) let it succeed; finish() undoes a
// successful call and checks that the object is consistent afterwards.
class Subject {
 public:
  virtual ~Subject() = default;
  virtual bool call(Form f) = 0;
  virtual void make_available() { trigger(); }
  virtual void trigger() = 0;
  virtual void finish(bool got) = 0;
};

class LockSubject : public Subject {
 public:
  LockSubject() { lock_.acquire(); }
  ~LockSubject() override {
    if (lock_.locked()) lock_.release();
  }
  bool call(Form f) override { return lock_call(lock_, f); }
  void trigger() override { lock_.release(); }  // any thread may release a Lock
  void finish(bool got) override {
    EXPECT_TRUE(lock_.locked());  // held by this call, or still by the set-up
    if (got) lock_.release();
  }

 private:
  weft::Lock lock_;
};

// An RLock or Condition held by another thread until trigger().
template <class L>
class OwnedSubject : public Subject {
 public:
  OwnedSubject() {
    owner_ = std::thread([this] {
      lock_.acquire();
      lock_.acquire();  // two levels: both must go before others get in
      held_.set_value();
      go_.get_future().wait();
      lock_.release();
      lock_.release();
    });
    held_.get_future().wait();
  }
  ~OwnedSubject() override { let_go(); }
  bool call(Form f) override { return lock_call(lock_, f); }
  void trigger() override { let_go(); }
  void finish(bool got) override {
    if (got) {
      lock_.release();
      EXPECT_THROW(lock_.release(), weft::RuntimeError);
    } else {
      EXPECT_THROW(lock_.release(), weft::RuntimeError);  // the failed call owns nothing
    }
  }

 private:
  void let_go() {
    if (owner_.joinable()) {
      go_.set_value();
      owner_.join();
    }
  }
  L lock_;
  std::promise<void> held_, go_;
  std::thread owner_;
};

template <class S>
class SemaphoreSubject : public Subject {
 public:
  SemaphoreSubject() { EXPECT_TRUE(sem_.acquire(false)); }  // value 1 -> 0
  bool call(Form f) override { return lock_call(sem_, f); }
  void trigger() override { sem_.release(); }
  void finish(bool got) override {
    EXPECT_FALSE(sem_.acquire(false));  // a successful call took the only permit
    sem_.release();  // back to the initial value
    if (!got) {
      EXPECT_TRUE(sem_.acquire(false)) << "a failed call must not take the permit";
    }
  }

 private:
  S sem_{1};
};

class EventSubject : public Subject {
 public:
  bool call(Form f) override {
    return wait_call([&](auto timeout) { return timeout ? event_.wait(*timeout) : event_.wait(); },
                     f);
  }
  void trigger() override { event_.set(); }
  void finish(bool got) override { EXPECT_EQ(event_.is_set(), got); }

 private:
  weft::Event event_;
};

template <class L>
class ConditionSubject : public Subject {
 public:
  bool call(Form f) override {
    cond_.acquire();
    const bool notified = wait_call(
        [&](auto timeout) {
          if (timeout) return cond_.wait(*timeout);
          cond_.wait();
          return true;
        },
        f);
    // wait() returns with the lock held, notified or not.
    cond_.release();
    return notified;
  }
  void make_available() override { ADD_FAILURE() << "a notify is not remembered"; }
  void trigger() override {
    cond_.acquire();
    cond_.notify();
    cond_.release();
  }
  void finish(bool) override {
    EXPECT_TRUE(cond_.acquire(false));  // nothing holds the lock any more
    cond_.release();
  }

 private:
  L lock_;
  weft::Condition cond_{lock_};
};

class BarrierSubject : public Subject {
 public:
  ~BarrierSubject() override {
    if (other_.joinable()) other_.join();
  }
  bool call(Form f) override {
    try {
      const std::size_t index = wait_call(
          [&](auto timeout) { return (timeout ? barrier_.wait(*timeout) : barrier_.wait()) + 1; },
          f);
      return index != 0;
    } catch (const weft::BrokenBarrierError&) {
      return false;
    }
  }
  void make_available() override {
    // The other party arrives first, so the call under test is the last one.
    std::atomic<std::uint64_t> ident{0};
    other_ = std::thread([&, this] {
      ident = weft::detail::current_ident();
      barrier_.wait();
    });
    while (ident.load() == 0) std::this_thread::yield();
    ASSERT_TRUE(weft::testing::wait_until_parked(ident.load()));
  }
  void trigger() override { barrier_.wait(); }
  void finish(bool got) override { EXPECT_EQ(barrier_.broken(), !got); }

 private:
  weft::Barrier barrier_{2};
  std::thread other_;
};

std::unique_ptr<Subject> make_subject(const std::string& name) {
  if (name == "Lock") return std::make_unique<LockSubject>();
  if (name == "RLock") return std::make_unique<OwnedSubject<weft::RLock>>();
  if (name == "ConditionLock") return std::make_unique<OwnedSubject<weft::Condition>>();
  if (name == "Semaphore") return std::make_unique<SemaphoreSubject<weft::Semaphore>>();
  if (name == "BoundedSemaphore")
    return std::make_unique<SemaphoreSubject<weft::BoundedSemaphore>>();
  if (name == "Event") return std::make_unique<EventSubject>();
  if (name == "ConditionWaitRLock") return std::make_unique<ConditionSubject<weft::RLock>>();
  if (name == "ConditionWaitLock") return std::make_unique<ConditionSubject<weft::Lock>>();
  if (name == "Barrier") return std::make_unique<BarrierSubject>();
  ADD_FAILURE() << "unknown subject " << name;
  return nullptr;
}

enum Outcome : unsigned {
  kTimesOut = 1,         // no trigger: the call fails (finite: after at least the timeout)
  kAtOnce = 2,           // available before the call: it succeeds
  kWhenTriggered = 4,    // blocks until triggered, then succeeds
};

struct Row {
  const char* file;
  int line;
  const char* subject;
  Form form;
  unsigned outcomes;
};

// gtest prints a row as its place in this file.
void PrintTo(const Row& row, std::ostream* os) {
  *os << row.file << ":" << row.line << " " << row.subject << " " << form_name(row.form);
}

#define ROW(subject, form, outcomes) Row{__FILE__, __LINE__, subject, Form::form, outcomes}

// Immediate forms fail at once or succeed at once; small timeouts fail after the timeout
// or succeed at once; long, huge, forever and max time points succeed at once or when
// triggered.
const Row kRows[] = {
    // Lock (held by the test thread; trigger: release from another thread).
    ROW("Lock", kNonBlocking, kTimesOut | kAtOnce),
    ROW("Lock", kTryLock, kTimesOut | kAtOnce),
    ROW("Lock", kZero, kTimesOut | kAtOnce),
    ROW("Lock", kNegative, kTimesOut | kAtOnce),
    ROW("Lock", kTryLockForNeg, kTimesOut | kAtOnce),
    ROW("Lock", kPastSteady, kTimesOut | kAtOnce),
    ROW("Lock", kPastSystem, kTimesOut | kAtOnce),
    ROW("Lock", kSmall, kTimesOut | kAtOnce),
    ROW("Lock", kTryLockForSmall, kTimesOut | kAtOnce),
    ROW("Lock", kLong, kAtOnce | kWhenTriggered),
    ROW("Lock", kHuge, kAtOnce | kWhenTriggered),
    ROW("Lock", kForever, kAtOnce | kWhenTriggered),
    ROW("Lock", kSteadyMax, kAtOnce | kWhenTriggered),
    ROW("Lock", kSystemMax, kAtOnce | kWhenTriggered),
    // RLock, two levels held by another thread until the trigger.
    ROW("RLock", kNonBlocking, kTimesOut | kAtOnce),
    ROW("RLock", kTryLock, kTimesOut | kAtOnce),
    ROW("RLock", kZero, kTimesOut | kAtOnce),
    ROW("RLock", kNegative, kTimesOut | kAtOnce),
    ROW("RLock", kTryLockForNeg, kTimesOut | kAtOnce),
    ROW("RLock", kPastSteady, kTimesOut | kAtOnce),
    ROW("RLock", kPastSystem, kTimesOut | kAtOnce),
    ROW("RLock", kSmall, kTimesOut | kAtOnce),
    ROW("RLock", kTryLockForSmall, kTimesOut | kAtOnce),
    ROW("RLock", kLong, kAtOnce | kWhenTriggered),
    ROW("RLock", kHuge, kAtOnce | kWhenTriggered),
    ROW("RLock", kForever, kAtOnce | kWhenTriggered),
    ROW("RLock", kSteadyMax, kAtOnce | kWhenTriggered),
    ROW("RLock", kSystemMax, kAtOnce | kWhenTriggered),
    // Condition's own lock (an RLock), held by another thread.
    ROW("ConditionLock", kNonBlocking, kTimesOut | kAtOnce),
    ROW("ConditionLock", kTryLock, kTimesOut | kAtOnce),
    ROW("ConditionLock", kZero, kTimesOut | kAtOnce),
    ROW("ConditionLock", kNegative, kTimesOut | kAtOnce),
    ROW("ConditionLock", kTryLockForNeg, kTimesOut | kAtOnce),
    ROW("ConditionLock", kPastSteady, kTimesOut | kAtOnce),
    ROW("ConditionLock", kPastSystem, kTimesOut | kAtOnce),
    ROW("ConditionLock", kSmall, kTimesOut | kAtOnce),
    ROW("ConditionLock", kTryLockForSmall, kTimesOut | kAtOnce),
    ROW("ConditionLock", kLong, kAtOnce | kWhenTriggered),
    ROW("ConditionLock", kHuge, kAtOnce | kWhenTriggered),
    ROW("ConditionLock", kForever, kAtOnce | kWhenTriggered),
    ROW("ConditionLock", kSteadyMax, kAtOnce | kWhenTriggered),
    ROW("ConditionLock", kSystemMax, kAtOnce | kWhenTriggered),
    // Semaphore at 0 (trigger: release).
    ROW("Semaphore", kNonBlocking, kTimesOut | kAtOnce),
    ROW("Semaphore", kTryLock, kTimesOut | kAtOnce),
    ROW("Semaphore", kZero, kTimesOut | kAtOnce),
    ROW("Semaphore", kNegative, kTimesOut | kAtOnce),
    ROW("Semaphore", kTryLockForNeg, kTimesOut | kAtOnce),
    ROW("Semaphore", kPastSteady, kTimesOut | kAtOnce),
    ROW("Semaphore", kPastSystem, kTimesOut | kAtOnce),
    ROW("Semaphore", kSmall, kTimesOut | kAtOnce),
    ROW("Semaphore", kTryLockForSmall, kTimesOut | kAtOnce),
    ROW("Semaphore", kLong, kAtOnce | kWhenTriggered),
    ROW("Semaphore", kHuge, kAtOnce | kWhenTriggered),
    ROW("Semaphore", kForever, kAtOnce | kWhenTriggered),
    ROW("Semaphore", kSteadyMax, kAtOnce | kWhenTriggered),
    ROW("Semaphore", kSystemMax, kAtOnce | kWhenTriggered),
    // BoundedSemaphore(1) at 0.
    ROW("BoundedSemaphore", kNonBlocking, kTimesOut | kAtOnce),
    ROW("BoundedSemaphore", kTryLock, kTimesOut | kAtOnce),
    ROW("BoundedSemaphore", kZero, kTimesOut | kAtOnce),
    ROW("BoundedSemaphore", kNegative, kTimesOut | kAtOnce),
    ROW("BoundedSemaphore", kTryLockForNeg, kTimesOut | kAtOnce),
    ROW("BoundedSemaphore", kPastSteady, kTimesOut | kAtOnce),
    ROW("BoundedSemaphore", kPastSystem, kTimesOut | kAtOnce),
    ROW("BoundedSemaphore", kSmall, kTimesOut | kAtOnce),
    ROW("BoundedSemaphore", kTryLockForSmall, kTimesOut | kAtOnce),
    ROW("BoundedSemaphore", kLong, kAtOnce | kWhenTriggered),
    ROW("BoundedSemaphore", kHuge, kAtOnce | kWhenTriggered),
    ROW("BoundedSemaphore", kForever, kAtOnce | kWhenTriggered),
    ROW("BoundedSemaphore", kSteadyMax, kAtOnce | kWhenTriggered),
    ROW("BoundedSemaphore", kSystemMax, kAtOnce | kWhenTriggered),
    // Event::wait (trigger: set).
    ROW("Event", kZero, kTimesOut | kAtOnce),
    ROW("Event", kNegative, kTimesOut | kAtOnce),
    ROW("Event", kSmall, kTimesOut | kAtOnce),
    ROW("Event", kLong, kAtOnce | kWhenTriggered),
    ROW("Event", kHuge, kAtOnce | kWhenTriggered),
    ROW("Event", kForever, kAtOnce | kWhenTriggered),
    // Condition::wait, over an RLock and over a Lock: a notify is never remembered, so
    // nothing succeeds "at once".
    ROW("ConditionWaitRLock", kZero, kTimesOut),
    ROW("ConditionWaitRLock", kNegative, kTimesOut),
    ROW("ConditionWaitRLock", kSmall, kTimesOut),
    ROW("ConditionWaitRLock", kLong, kWhenTriggered),
    ROW("ConditionWaitRLock", kHuge, kWhenTriggered),
    ROW("ConditionWaitRLock", kForever, kWhenTriggered),
    ROW("ConditionWaitLock", kZero, kTimesOut),
    ROW("ConditionWaitLock", kNegative, kTimesOut),
    ROW("ConditionWaitLock", kSmall, kTimesOut),
    ROW("ConditionWaitLock", kLong, kWhenTriggered),
    ROW("ConditionWaitLock", kHuge, kWhenTriggered),
    ROW("ConditionWaitLock", kForever, kWhenTriggered),
    // Barrier(2)::wait: timing out breaks the barrier (BrokenBarrierError); "available"
    // means the other party is already waiting.
    ROW("Barrier", kZero, kTimesOut | kAtOnce),
    ROW("Barrier", kNegative, kTimesOut | kAtOnce),
    ROW("Barrier", kSmall, kTimesOut | kAtOnce),
    ROW("Barrier", kLong, kAtOnce | kWhenTriggered),
    ROW("Barrier", kHuge, kAtOnce | kWhenTriggered),
    ROW("Barrier", kForever, kAtOnce | kWhenTriggered),
};

std::vector<Row> rows_with(unsigned outcome) {
  std::vector<Row> out;
  for (const Row& row : kRows)
    if ((row.outcomes & outcome) != 0) out.push_back(row);
  return out;
}

// The rows of rows_with(outcome) whose form is f(kSmallTimeout).
std::vector<Row> small_rows_with(unsigned outcome) {
  std::vector<Row> out;
  for (const Row& row : rows_with(outcome))
    if (row.form == Form::kSmall) out.push_back(row);
  return out;
}

class TimeoutMatrix : public ::testing::TestWithParam<Row> {
 protected:
  void SetUp() override {
    const Row& row = GetParam();
    trace_.emplace(row.file, row.line,
                   std::string(row.subject) + " " + form_name(row.form));
  }
  std::optional<::testing::ScopedTrace> trace_;
};

using TimesOut = TimeoutMatrix;
using SucceedsAtOnce = TimeoutMatrix;
using SucceedsWhenTriggered = TimeoutMatrix;

TEST_P(TimesOut, CallFails) {
  const Row& row = GetParam();
  weft::testing::run([&] {
    auto subject = make_subject(row.subject);
    ASSERT_NE(subject, nullptr);
    const auto start = weft::clock::now();
    const bool got = subject->call(row.form);
    const auto took = weft::clock::now() - start;
    EXPECT_FALSE(got);
    EXPECT_EQ(took, is_small(row.form) ? weft::clock::duration(kSmallTimeout)
                                       : weft::clock::duration::zero());
    subject->finish(got);
  });
}

using TimesOutOnTheRealClock = TimeoutMatrix;

TEST_P(TimesOutOnTheRealClock, CallFailsAfterAtLeastTheTimeout) {
  const Row& row = GetParam();
  auto subject = make_subject(row.subject);
  ASSERT_NE(subject, nullptr);
  const auto start = std::chrono::steady_clock::now();
  const bool got = subject->call(row.form);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(got);
  EXPECT_GE(took, kSmallTimeout) << "gave up before the timeout";
  subject->finish(got);
}

TEST_P(SucceedsAtOnce, CallSucceeds) {
  const Row& row = GetParam();
  auto subject = make_subject(row.subject);
  ASSERT_NE(subject, nullptr);
  subject->make_available();
  const bool got = subject->call(row.form);
  EXPECT_TRUE(got);
  subject->finish(got);
}

TEST_P(SucceedsWhenTriggered, CallBlocksThenSucceeds) {
  const Row& row = GetParam();
  auto subject = make_subject(row.subject);
  ASSERT_NE(subject, nullptr);
  const bool got = weft::testing::expect_blocks_until([&] { return subject->call(row.form); },
                                                      [&] { subject->trigger(); });
  EXPECT_TRUE(got);
  subject->finish(got);
}

std::string row_name(const ::testing::TestParamInfo<Row>& info) {
  return std::string(info.param.subject) + "_" + form_name(info.param.form) + "_L" +
         std::to_string(info.param.line);
}

INSTANTIATE_TEST_SUITE_P(Matrix, TimesOut, ::testing::ValuesIn(rows_with(kTimesOut)), row_name);
INSTANTIATE_TEST_SUITE_P(Matrix, TimesOutOnTheRealClock,
                         ::testing::ValuesIn(small_rows_with(kTimesOut)), row_name);
INSTANTIATE_TEST_SUITE_P(Matrix, SucceedsAtOnce, ::testing::ValuesIn(rows_with(kAtOnce)), row_name);
INSTANTIATE_TEST_SUITE_P(Matrix, SucceedsWhenTriggered,
                         ::testing::ValuesIn(rows_with(kWhenTriggered)), row_name);

}  // namespace
