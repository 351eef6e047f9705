// SPDX-License-Identifier: Apache-2.0
// Extreme timeouts on every timed call: time_point::min()/max() of several clocks,
// duration::min()/max() of several representations, +-infinity and NaN.
//   immediate  (min(), -inf, a passed time point): one try, the call fails at once
//   forever    (max(), +inf, beyond steady_clock's range): the call blocks until
//              triggered (proved with expect_blocks_until, no sleeps)
//   NaN        throws weft::ValueError
// The conversions used to compute `when - now()` without saturation: signed overflow,
// which hung at -O0. A call that wrongly blocks is released after a generous bound by a
// guard thread, so a failure never turns into a hang.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "support/blocking.hpp"
#include "weft/barrier.hpp"
#include "weft/condition.hpp"
#include "weft/errors.hpp"
#include "weft/event.hpp"
#include "weft/futures.hpp"
#include "weft/lock.hpp"
#include "weft/queue.hpp"
#include "weft/rlock.hpp"
#include "weft/semaphore.hpp"
#include "weft/thread.hpp"
#include "weft/timer.hpp"

using namespace std::chrono_literals;

namespace {

// A clock of weft's users: seconds since the Unix epoch in a double.
struct DoubleSecondsClock {
  using rep = double;
  using period = std::ratio<1>;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<DoubleSecondsClock>;
  [[maybe_unused]] static constexpr bool is_steady = false;
  static time_point now() {
    return time_point(std::chrono::duration_cast<duration>(
        std::chrono::system_clock::now().time_since_epoch()));
  }
};

// A clock whose ticks are 32-bit milliseconds.
struct Int32MillisClock {
  using rep = std::int32_t;
  using period = std::milli;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<Int32MillisClock>;
  [[maybe_unused]] static constexpr bool is_steady = true;
  static time_point now() { return time_point(duration(1000)); }
};

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using DSec = std::chrono::duration<double>;
using FMilli = std::chrono::duration<float, std::milli>;
using SteadyHours = std::chrono::time_point<std::chrono::steady_clock, std::chrono::hours>;
using SystemDouble = std::chrono::time_point<std::chrono::system_clock, DSec>;

using AnyTimeout =
    std::variant<std::chrono::nanoseconds, std::chrono::hours, DSec, FMilli, std::chrono::seconds,
                 std::chrono::steady_clock::time_point, SteadyHours,
                 std::chrono::system_clock::time_point, SystemDouble,
                 DoubleSecondsClock::time_point, Int32MillisClock::time_point>;

enum class Expect { kImmediate, kForever, kInvalid };

struct Value {
  const char* name;
  AnyTimeout timeout;
  Expect expect;
};

const std::vector<Value>& values() {
  using namespace std::chrono;
  static const std::vector<Value> v = {
      {"nanoseconds::min()", nanoseconds::min(), Expect::kImmediate},
      {"nanoseconds::max()", nanoseconds::max(), Expect::kForever},
      {"hours::min()", hours::min(), Expect::kImmediate},
      {"hours::max()", hours::max(), Expect::kForever},
      {"seconds::max()", seconds::max(), Expect::kForever},
      {"duration<double>::min()", DSec::min(), Expect::kImmediate},
      {"duration<double>::max()", DSec::max(), Expect::kForever},
      {"duration<double>(-inf)", DSec(-kInf), Expect::kImmediate},
      {"duration<double>(+inf)", DSec(kInf), Expect::kForever},
      {"duration<double>(NaN)", DSec(kNaN), Expect::kInvalid},
      {"duration<double>(-0.0)", DSec(-0.0), Expect::kImmediate},
      {"duration<double>(1e300)", DSec(1e300), Expect::kForever},
      {"duration<float, milli>(NaN)", FMilli(static_cast<float>(kNaN)), Expect::kInvalid},
      {"duration<float, milli>::max()", FMilli::max(), Expect::kForever},
      {"steady_clock::time_point::min()", steady_clock::time_point::min(), Expect::kImmediate},
      {"steady_clock::time_point::max()", steady_clock::time_point::max(), Expect::kForever},
      {"time_point<steady_clock, hours>::min()", SteadyHours::min(), Expect::kImmediate},
      {"time_point<steady_clock, hours>::max()", SteadyHours::max(), Expect::kForever},
      {"system_clock::time_point::min()", system_clock::time_point::min(), Expect::kImmediate},
      {"system_clock::time_point::max()", system_clock::time_point::max(), Expect::kForever},
      {"time_point<system_clock, double s>(-inf)", SystemDouble(DSec(-kInf)), Expect::kImmediate},
      {"time_point<system_clock, double s>(+inf)", SystemDouble(DSec(kInf)), Expect::kForever},
      {"time_point<system_clock, double s>(NaN)", SystemDouble(DSec(kNaN)), Expect::kInvalid},
      {"DoubleSecondsClock::time_point::min()", DoubleSecondsClock::time_point::min(),
       Expect::kImmediate},
      {"DoubleSecondsClock::time_point::max()", DoubleSecondsClock::time_point::max(),
       Expect::kForever},
      {"Int32MillisClock::time_point::min()", Int32MillisClock::time_point::min(),
       Expect::kImmediate},
      {"Int32MillisClock::time_point::max()", Int32MillisClock::time_point::max(),
       Expect::kForever},
  };
  return v;
}

template <class T>
constexpr bool kIsDuration = false;
template <class R, class P>
constexpr bool kIsDuration<std::chrono::duration<R, P>> = true;

// One timed call on an object that is not available. call() returns true when the call
// succeeded and false when it gave up (false, Empty, Full, TimeoutError,
// BrokenBarrierError); trigger(), from another thread, lets a blocked call succeed.
// accepts() is false when the call has no form for the timeout's type.
struct Case {
  virtual ~Case() = default;
  virtual bool accepts(const AnyTimeout& t) const = 0;
  virtual bool call(const AnyTimeout& t) = 0;
  virtual void trigger() = 0;
};

// Derived defines timed(x) for the timeout types its call accepts.
template <class Derived>
struct CaseOf : Case {
  bool accepts(const AnyTimeout& t) const override {
    return std::visit([](auto v) { return requires(Derived& d) { d.timed(v); }; }, t);
  }
  bool call(const AnyTimeout& t) override {
    return std::visit(
        [&](auto v) -> bool {
          if constexpr (requires(Derived& d) { d.timed(v); }) {
            return static_cast<Derived*>(this)->timed(v);
          } else {
            ADD_FAILURE() << "no form for this timeout";
            return false;
          }
        },
        t);
  }
};

template <class D>
concept Duration = kIsDuration<D>;
template <class T>
concept TimePoint = requires { typename T::clock; } && !kIsDuration<T>;

enum class LockForm { kAcquire, kTryLockFor, kTryLockUntil };

// A Lock, RLock, Semaphore or Condition held by another thread until trigger().
template <class L, LockForm F>
struct HeldLock : CaseOf<HeldLock<L, F>> {
  HeldLock() {
    holder = std::thread([this] {
      lock.acquire();
      held.set();
      go.wait();
      lock.release();
    });
    held.wait();
  }
  ~HeldLock() override {
    go.set();
    holder.join();
    if (got) lock.release();
  }
  template <Duration D>
    requires(F != LockForm::kTryLockUntil)
  bool timed(D d) {
    got = F == LockForm::kAcquire ? lock.acquire(d) : lock.try_lock_for(d);
    return got;
  }
  template <TimePoint T>
    requires(F == LockForm::kTryLockUntil)
  bool timed(T t) {
    got = lock.try_lock_until(t);
    return got;
  }
  void trigger() override { go.set(); }
  L lock{};
  weft::Event held, go;
  std::thread holder;
  bool got = false;
};

template <bool kWithPredicate>
struct ConditionWait : CaseOf<ConditionWait<kWithPredicate>> {
  ConditionWait() { cv.acquire(); }
  ~ConditionWait() override { cv.release(); }
  template <Duration D>
  bool timed(D d) {
    if constexpr (kWithPredicate) {
      return cv.wait_for([&] { return flag; }, d);
    } else {
      return cv.wait(d);
    }
  }
  void trigger() override {
    std::scoped_lock hold(cv);
    flag = true;
    cv.notify();
  }
  weft::Condition cv;
  bool flag = false;
};

struct EventWait : CaseOf<EventWait> {
  template <Duration D>
  bool timed(D d) {
    return ev.wait(d);
  }
  void trigger() override { ev.set(); }
  weft::Event ev;
};

// Barrier(2): the call is the first party; trigger() sends the second.
template <bool kConstructorTimeout>
struct BarrierWait : CaseOf<BarrierWait<kConstructorTimeout>> {
  ~BarrierWait() override {
    if (second.joinable()) second.join();
  }
  template <Duration D>
  bool timed(D d) {
    try {
      if constexpr (kConstructorTimeout) {
        barrier.emplace(2, std::function<void()>{}, d);
        barrier->wait();
      } else {
        barrier.emplace(2);
        barrier->wait(d);
      }
      return true;
    } catch (const weft::BrokenBarrierError&) {
      return false;
    }
  }
  void trigger() override {
    second = std::thread([this] { barrier->wait(); });
  }
  std::optional<weft::Barrier> barrier;
  std::thread second;
};

enum class QForm { kGet, kTryGet, kGetMany, kPut, kTryPut, kPutMany, kJoin };

template <QForm F>
struct QueueCall : CaseOf<QueueCall<F>> {
  QueueCall() {
    if constexpr (F == QForm::kPut || F == QForm::kTryPut || F == QForm::kPutMany) {
      q.put(0);  // full
    } else if constexpr (F == QForm::kJoin) {
      q.put(0);
      (void)q.get();  // one unfinished task
    }
  }
  template <Duration D>
  bool timed(D d) {
    int item = 1;
    try {
      switch (F) {
        case QForm::kGet: (void)q.get(d); return true;
        case QForm::kTryGet: return q.try_get(d).has_value();
        case QForm::kGetMany: return !q.get_many(4, d).empty();
        case QForm::kPut: q.put(item, d); return true;
        case QForm::kTryPut: return q.try_put(item, d);
        case QForm::kPutMany: return q.put_many(std::span<int>(&item, 1), d) == 1;
        case QForm::kJoin: return q.join(d);
      }
    } catch (const weft::Empty&) {
      return false;
    } catch (const weft::Full&) {
      return false;
    }
    return false;
  }
  void trigger() override {
    switch (F) {
      case QForm::kGet: case QForm::kTryGet: case QForm::kGetMany: q.put(1); break;
      case QForm::kPut: case QForm::kTryPut: case QForm::kPutMany: (void)q.get(); break;
      case QForm::kJoin: q.task_done(); break;
    }
  }
  weft::Queue<int> q{1};
};

struct SimpleQueueGet : CaseOf<SimpleQueueGet> {
  template <Duration D>
  bool timed(D d) {
    try {
      (void)q.get(d);
      return true;
    } catch (const weft::Empty&) {
      return false;
    }
  }
  void trigger() override { q.put(1); }
  weft::SimpleQueue<int> q;
};

struct ThreadJoin : CaseOf<ThreadJoin> {
  ThreadJoin() : t([this] { ev.wait(); }) { t.start(); }
  ~ThreadJoin() override {
    ev.set();
    t.join();
  }
  template <Duration D>
  bool timed(D d) {
    return t.join(d);
  }
  void trigger() override { ev.set(); }
  weft::Event ev;
  weft::Thread t;
};

enum class FForm { kResult, kException, kWait, kAsCompleted };

template <FForm F>
struct FutureCall : CaseOf<FutureCall<F>> {
  template <Duration D>
    requires(F == FForm::kResult || F == FForm::kException ||
             std::is_same_v<D, std::chrono::nanoseconds>)
  bool timed(D d) {
    try {
      switch (F) {
        case FForm::kResult: return f.result(d) == 1;
        case FForm::kException: return f.exception(d) == nullptr;
        case FForm::kWait:
          if constexpr (std::is_same_v<D, std::chrono::nanoseconds>)
            return weft::wait(std::vector{f}, d).not_done.empty();
          return false;
        case FForm::kAsCompleted:
          if constexpr (std::is_same_v<D, std::chrono::nanoseconds>) {
            auto r = weft::as_completed(std::vector{f}, d);
            return r.begin() != r.end();
          }
          return false;
      }
    } catch (const weft::TimeoutError&) {
      return false;
    }
    return false;
  }
  void trigger() override { f.set_result(1); }
  weft::Future<int> f;
};

struct PoolMap : CaseOf<PoolMap> {
  ~PoolMap() override { ev.set(); }  // before the pool joins its worker
  template <Duration D>
  bool timed(D d) {
    try {
      auto results = pool.map([this](int x) { ev.wait(); return x; }, std::vector{7}, d);
      return *results.begin() == 7;
    } catch (const weft::TimeoutError&) {
      return false;
    }
  }
  void trigger() override { ev.set(); }
  weft::Event ev;
  weft::ThreadPoolExecutor pool{1};
};

// Runs body() on this thread; a call that wrongly blocks is released by triggering the
// case after a bound far beyond any immediate call, so the test fails instead of hanging.
template <class Body>
void with_guard(Case& c, Body&& body, bool& guard_fired) {
  guard_fired = weft::testing::run_with_rescue(body, [&] { c.trigger(); });
}

using Factory = std::function<std::unique_ptr<Case>()>;

template <class C>
Factory make() {
  return [] { return std::make_unique<C>(); };
}

void check_every_value(const Factory& factory) {
  int applicable = 0;
  for (const Value& v : values()) {
    SCOPED_TRACE(v.name);
    std::unique_ptr<Case> c = factory();
    if (!c->accepts(v.timeout)) continue;
    bool guard_fired = false;
    switch (v.expect) {
      case Expect::kImmediate: {
        bool got = true;
        with_guard(*c, [&] { got = c->call(v.timeout); }, guard_fired);
        EXPECT_FALSE(guard_fired) << "an immediate timeout blocked";
        EXPECT_FALSE(got) << "the call succeeded on an unavailable object";
        break;
      }
      case Expect::kForever: {
        bool got = weft::testing::expect_blocks_until([&] { return c->call(v.timeout); },
                                                      [&] { c->trigger(); });
        EXPECT_TRUE(got) << "the call gave up instead of waiting for its trigger";
        break;
      }
      case Expect::kInvalid: {
        bool threw = false;
        with_guard(
            *c,
            [&] {
              try {
                c->call(v.timeout);
              } catch (const weft::ValueError&) {
                threw = true;
              }
            },
            guard_fired);
        EXPECT_TRUE(threw) << "a NaN timeout must throw ValueError";
        EXPECT_FALSE(guard_fired) << "a NaN timeout blocked";
        break;
      }
    }
    ++applicable;
  }
  EXPECT_GT(applicable, 0);
}

}  // namespace

#define EXTREME_TIMEOUTS(name, ...) \
  TEST(ExtremeTimeouts, name) { check_every_value(make<__VA_ARGS__>()); }

EXTREME_TIMEOUTS(LockAcquire, HeldLock<weft::Lock, LockForm::kAcquire>)
EXTREME_TIMEOUTS(LockTryLockFor, HeldLock<weft::Lock, LockForm::kTryLockFor>)
EXTREME_TIMEOUTS(LockTryLockUntil, HeldLock<weft::Lock, LockForm::kTryLockUntil>)
EXTREME_TIMEOUTS(RLockAcquire, HeldLock<weft::RLock, LockForm::kAcquire>)
EXTREME_TIMEOUTS(RLockTryLockFor, HeldLock<weft::RLock, LockForm::kTryLockFor>)
EXTREME_TIMEOUTS(RLockTryLockUntil, HeldLock<weft::RLock, LockForm::kTryLockUntil>)
EXTREME_TIMEOUTS(SemaphoreAcquire, HeldLock<weft::Semaphore, LockForm::kAcquire>)
EXTREME_TIMEOUTS(SemaphoreTryLockFor, HeldLock<weft::Semaphore, LockForm::kTryLockFor>)
EXTREME_TIMEOUTS(SemaphoreTryLockUntil, HeldLock<weft::Semaphore, LockForm::kTryLockUntil>)
EXTREME_TIMEOUTS(BoundedSemaphoreTryLockUntil,
                 HeldLock<weft::BoundedSemaphore, LockForm::kTryLockUntil>)
EXTREME_TIMEOUTS(ConditionAcquire, HeldLock<weft::Condition, LockForm::kAcquire>)
EXTREME_TIMEOUTS(ConditionTryLockUntil, HeldLock<weft::Condition, LockForm::kTryLockUntil>)
EXTREME_TIMEOUTS(ConditionWait, ConditionWait<false>)
EXTREME_TIMEOUTS(ConditionWaitForPredicate, ConditionWait<true>)
EXTREME_TIMEOUTS(EventWait, EventWait)
EXTREME_TIMEOUTS(BarrierWait, BarrierWait<false>)
EXTREME_TIMEOUTS(BarrierConstructorTimeout, BarrierWait<true>)
EXTREME_TIMEOUTS(QueueGet, QueueCall<QForm::kGet>)
EXTREME_TIMEOUTS(QueueTryGet, QueueCall<QForm::kTryGet>)
EXTREME_TIMEOUTS(QueueGetMany, QueueCall<QForm::kGetMany>)
EXTREME_TIMEOUTS(QueuePut, QueueCall<QForm::kPut>)
EXTREME_TIMEOUTS(QueueTryPut, QueueCall<QForm::kTryPut>)
EXTREME_TIMEOUTS(QueuePutMany, QueueCall<QForm::kPutMany>)
EXTREME_TIMEOUTS(QueueJoin, QueueCall<QForm::kJoin>)
EXTREME_TIMEOUTS(SimpleQueueGet, SimpleQueueGet)
EXTREME_TIMEOUTS(ThreadJoin, ThreadJoin)
EXTREME_TIMEOUTS(FutureResult, FutureCall<FForm::kResult>)
EXTREME_TIMEOUTS(FutureException, FutureCall<FForm::kException>)
EXTREME_TIMEOUTS(FuturesWait, FutureCall<FForm::kWait>)
EXTREME_TIMEOUTS(FuturesAsCompleted, FutureCall<FForm::kAsCompleted>)
EXTREME_TIMEOUTS(ThreadPoolMap, PoolMap)

// Timer: a NaN interval throws at construction; min() and -inf fire at once; +inf and
// max() never fire (cancel() is then the only way out, and joins at once).
TEST(ExtremeTimeouts, TimerInterval) {
  EXPECT_THROW(weft::Timer(DSec(kNaN), [] {}), weft::ValueError);
  for (DSec immediate : {DSec(-kInf), DSec::min()}) {
    weft::Event fired;
    weft::Timer t(immediate, [&] { fired.set(); });
    t.start();
    t.join();
    EXPECT_TRUE(fired.is_set());
  }
  for (auto forever : {std::chrono::nanoseconds::max(), std::chrono::nanoseconds(std::chrono::hours(1))}) {
    bool fired = false;
    weft::Timer t(forever, [&] { fired = true; });
    t.start();
    t.cancel();
    t.join();
    EXPECT_FALSE(fired);
  }
  weft::Timer inf(DSec(kInf), [] {});
  inf.start();
  inf.cancel();
  inf.join();
}

// Barrier(-1) and ThreadPoolExecutor(-1) are rejected instead of wrapping to a huge count.
TEST(NegativeCounts, BarrierThrowsValueError) {
  EXPECT_THROW(weft::Barrier(-1), weft::ValueError);
  EXPECT_THROW(weft::Barrier(-1, [] {}), weft::ValueError);
  EXPECT_THROW(weft::Barrier(-5, [] {}, 1s), weft::ValueError);
  EXPECT_THROW(weft::Barrier(0), weft::ValueError);
  weft::Barrier one(1);
  EXPECT_EQ(one.parties(), 1u);
  EXPECT_EQ(one.wait(), 0u);
}

TEST(NegativeCounts, ThreadPoolExecutorThrowsValueError) {
  EXPECT_THROW(weft::ThreadPoolExecutor(-1), weft::ValueError);
  EXPECT_THROW(weft::ThreadPoolExecutor(-1, "named"), weft::ValueError);
  weft::ThreadPoolExecutor two(2);
  EXPECT_EQ(two.submit([] { return 5; }).result(), 5);
  weft::ThreadPoolExecutor deflt;
  EXPECT_EQ(deflt.submit([] { return 6; }).result(), 6);
}
