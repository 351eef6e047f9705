// SPDX-License-Identifier: Apache-2.0
// The cancellation matrix (issue 13, item 7): every blocking call of <weft/cancel.hpp>'s
// list x the four stops. One cell: the call is already blocked (a trigger sees it parked,
// or virtual time sees it durably blocked), the stop arrives, the call throws the stop's
// exception, and its object is as if the call had never been made (an acquire holds
// nothing, a Condition wait holds its lock again, a get takes no item, a put leaves none,
// a Barrier wait withdraws its party unbroken, a join or a result leaves its thread or task
// running).
//
//   stop            where the call runs                      the call throws
//   CancelScope     a std::thread inside a CancelScope,       CancelledError
//                   its token stopped once the call parked
//   RequestStop     a weft::Thread, request_stop() once      CancelledError
//                   the call parked
//   Timeout         the thread of weft::testing::run inside   TimeoutError, at exactly the
//                   Timeout(5s): virtual time reaches the     scope's deadline (also for the
//                   deadline only once the call is blocked    timed forms, whose own is 1 h)
//   CtrlC           the main thread of a child process after  KeyboardInterrupt
//                   install_keyboard_interrupt(); a helper
//                   thread tells the parent once it parked
//
// A call that does not honour its stop fails its cell instead of hanging it: a real-time
// cell is rescued after 20 s (Call::release makes the call return), a virtual-time cell
// ends with testing::Deadlock, a child is killed after 60 s.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cancel/child_process.hpp"
#include "cancel/stop_outcome.hpp"
#include "support/blocking.hpp"
#include "weft/cancel.hpp"
#include "weft/futures.hpp"
#include "weft/queue.hpp"
#include "weft/testing.hpp"
#include "weft/threading.hpp"

namespace {

using namespace std::chrono_literals;

// ---- the calls ----

// One blocking call on a fresh object. Made (and destroyed) in the context of its cell: on
// the test's thread, inside a testing bubble, or in the child process.
class Call {
 public:
  virtual ~Call() = default;
  // The blocking call: it blocks until a stop (or release()) ends it.
  virtual void block() = 0;
  // After the stop, on the thread that made the Call: the object is intact.
  virtual void expect_intact() = 0;
  // Makes a blocked block() return (only when a stop failed to end it).
  virtual void release() = 0;
};

// A weft::Thread that runs `take`, then holds what it took until finish() (or the
// destructor), then runs `drop`. The constructor returns once `take` ran.
class Holder {
 public:
  Holder(std::function<void()> take, std::function<void()> drop)
      : thread_([this, take = std::move(take), drop = std::move(drop)] {
          take();
          taken_.set();
          finish_.wait();
          drop();
        }) {
    thread_.start();
    taken_.wait();
  }
  ~Holder() { finish(); }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;

  void finish() {
    finish_.set();
    if (thread_.ident()) thread_.join();
  }
  weft::Thread& thread() { return thread_; }

 private:
  weft::Event taken_, finish_;
  weft::Thread thread_;
};

class LockAcquire : public Call {
 public:
  explicit LockAcquire(bool timed) : timed_(timed) { lock_.acquire(); }
  ~LockAcquire() override {
    if (lock_.locked()) lock_.release();
  }
  void block() override {
    if (timed_) {
      (void)lock_.acquire(1h);
    } else {
      lock_.acquire();
    }
  }
  void expect_intact() override {
    EXPECT_TRUE(lock_.locked());
    lock_.release();
    EXPECT_TRUE(lock_.acquire(false)) << "the cancelled acquire took the lock";
    lock_.release();
  }
  void release() override { lock_.release(); }

 private:
  const bool timed_;
  weft::Lock lock_;
};

class RLockAcquire : public Call {
 public:
  void block() override { lock_.acquire(); }
  void expect_intact() override {
    holder_.finish();
    EXPECT_TRUE(lock_.acquire(false)) << "the cancelled acquire took the lock";
    lock_.release();
  }
  void release() override { holder_.finish(); }

 private:
  weft::RLock lock_;
  Holder holder_{[this] { lock_.acquire(); }, [this] { lock_.release(); }};
};

class ConditionWait : public Call {
 public:
  explicit ConditionWait(bool with_predicate) : with_predicate_(with_predicate) {}
  void block() override {
    std::unique_lock hold(cond_);
    try {
      if (with_predicate_) {
        cond_.wait_for([this] { return released_; });
      } else {
        cond_.wait();
      }
    } catch (...) {
      // Checked here, where the exception comes out: notify() throws RuntimeError unless
      // this thread holds the lock.
      held_again_ = hold.owns_lock();
      cond_.notify();
      throw;
    }
  }
  void expect_intact() override {
    EXPECT_TRUE(held_again_) << "the cancelled wait did not take its lock again";
    EXPECT_TRUE(cond_.acquire(false)) << "the cancelled wait kept its lock";
    cond_.release();
  }
  void release() override {
    std::scoped_lock hold(cond_);
    released_ = true;
    cond_.notify_all();
  }

 private:
  const bool with_predicate_;
  weft::Condition cond_;
  bool released_ = false;
  bool held_again_ = false;
};

template <class Sem>
class SemaphoreAcquire : public Call {
 public:
  SemaphoreAcquire() { sem_.acquire(); }  // the last permit (a BoundedSemaphore's only one)
  void block() override { sem_.acquire(); }
  void expect_intact() override {
    sem_.release();
    EXPECT_TRUE(sem_.acquire(false));
    EXPECT_FALSE(sem_.acquire(false)) << "the cancelled acquire left a permit too many";
    sem_.release();
  }
  void release() override { sem_.release(); }

 private:
  Sem sem_{1};
};

class EventWait : public Call {
 public:
  explicit EventWait(bool timed) : timed_(timed) {}
  void block() override {
    if (timed_) {
      (void)event_.wait(1h);
    } else {
      event_.wait();
    }
  }
  void expect_intact() override { EXPECT_FALSE(event_.is_set()); }
  void release() override { event_.set(); }

 private:
  const bool timed_;
  weft::Event event_;
};

class BarrierWait : public Call {
 public:
  void block() override { (void)barrier_.wait(); }
  void expect_intact() override {
    EXPECT_FALSE(barrier_.broken());
    EXPECT_EQ(barrier_.n_waiting(), 0u) << "the cancelled wait did not withdraw its party";
    // Two fresh parties pass it.
    weft::Thread partner([this] { (void)barrier_.wait(); });
    partner.start();
    (void)barrier_.wait();
    partner.join();
  }
  void release() override { barrier_.abort(); }

 private:
  weft::Barrier barrier_{2};
};

class ThreadJoin : public Call {
 public:
  void block() override { target_.thread().join(); }
  void expect_intact() override {
    EXPECT_TRUE(target_.thread().is_alive());
    target_.finish();
    EXPECT_FALSE(target_.thread().is_alive());
  }
  void release() override { target_.finish(); }

 private:
  Holder target_{[] {}, [] {}};
};

enum class GetForm { get, get_timed, get_many };

template <class Q>
class QueueGet : public Call {
 public:
  using Form = GetForm;
  explicit QueueGet(Form form) : form_(form) {}
  void block() override {
    switch (form_) {
      case Form::get: (void)q_.get(); break;
      case Form::get_timed: (void)q_.get(1h); break;
      case Form::get_many: (void)q_.get_many(4); break;
    }
  }
  void expect_intact() override {
    EXPECT_EQ(q_.qsize(), 0u);
    q_.put(7);
    EXPECT_EQ(q_.get_nowait(), 7) << "the item went to the cancelled getter";
  }
  void release() override { q_.put(1); }

 private:
  const Form form_;
  Q q_;
};

template <class Q>
class QueuePut : public Call {
 public:
  explicit QueuePut(bool many) : many_(many) { q_.put(1); }
  void block() override {
    if (many_) {
      std::vector<int> items{2, 3};
      (void)q_.put_many(items);
    } else {
      q_.put(2);
    }
  }
  void expect_intact() override {
    EXPECT_EQ(q_.qsize(), 1u);
    EXPECT_EQ(q_.get_nowait(), 1);
    EXPECT_TRUE(q_.empty()) << "the cancelled put inserted its item";
  }
  void release() override { (void)q_.shutdown(true); }

 private:
  const bool many_;
  Q q_{1};
};

class QueueJoin : public Call {
 public:
  QueueJoin() {
    q_.put(1);
    (void)q_.get();  // one unfinished task
  }
  void block() override { q_.join(); }
  void expect_intact() override {
    q_.task_done();
    q_.join();  // returns at once: the cancelled join changed no count
    EXPECT_THROW(q_.task_done(), weft::ValueError);
  }
  void release() override { q_.task_done(); }

 private:
  weft::Queue<int> q_;
};

class Select : public Call {
 public:
  void block() override { (void)weft::select(q_, event_); }
  void expect_intact() override {
    q_.put(5);
    EXPECT_EQ(q_.qsize(), 1u) << "the cancelled select took the item";
    EXPECT_EQ(q_.get_nowait(), 5);
    EXPECT_FALSE(event_.is_set());
  }
  void release() override { event_.set(); }

 private:
  weft::Queue<int> q_;
  weft::Event event_;
};

// A task of a one-worker pool that runs until finish(); the forms of waiting for it.
class FutureWait : public Call {
 public:
  enum class Form { result, exception, wait_all, as_completed, map };
  explicit FutureWait(Form form) : form_(form) {
    if (form_ == Form::map) {
      std::function<int(int)> task = [this](int x) { return run_task(x); };
      results_.emplace(pool_.map(std::move(task), std::vector<int>{21}));
    } else {
      future_ = pool_.submit([this] { return run_task(21); });
    }
    started_.wait();
  }
  ~FutureWait() override { finish_.set(); }
  void block() override {
    switch (form_) {
      case Form::result: (void)future_.result(); break;
      case Form::exception: (void)future_.exception(); break;
      case Form::wait_all: (void)weft::wait({future_}); break;
      case Form::as_completed:
        for (auto& f : weft::as_completed({future_})) (void)f;
        break;
      case Form::map:
        for (int r : *results_) (void)r;
        break;
    }
  }
  void expect_intact() override {
    finish_.set();
    if (form_ == Form::map) {
      std::vector<int> got;
      for (int r : *results_) got.push_back(r);
      EXPECT_EQ(got, std::vector<int>{42});
    } else {
      EXPECT_EQ(future_.result(), 42) << "the task was disturbed";
    }
  }
  void release() override { finish_.set(); }

 private:
  int run_task(int x) {
    started_.set();
    finish_.wait();
    return 2 * x;
  }
  using MapResults = decltype(std::declval<weft::ThreadPoolExecutor&>().map(
      std::declval<std::function<int(int)>>(), std::declval<std::vector<int>>()));

  const Form form_;
  weft::Event started_, finish_;
  weft::ThreadPoolExecutor pool_{1};
  weft::Future<int> future_;
  std::optional<MapResults> results_;
};

class Sleep : public Call {
 public:
  void block() override {
    weft::CancelScope rescue(rescue_.get_token());
    weft::sleep(1h);
  }
  void expect_intact() override { EXPECT_FALSE(rescue_.stop_requested()); }
  void release() override { rescue_.request_stop(); }

 private:
  std::stop_source rescue_;  // only a failed cell stops it
};

struct CallKind {
  const char* name;
  std::function<std::unique_ptr<Call>()> make;
};

template <class C, class... Args>
CallKind kind(const char* name, Args... args) {
  return {name, [=] { return std::unique_ptr<Call>(std::make_unique<C>(args...)); }};
}

const std::vector<CallKind>& calls() {
  static const std::vector<CallKind> all{
      kind<LockAcquire>("LockAcquire", false),
      kind<LockAcquire>("LockAcquireTimed", true),
      kind<RLockAcquire>("RLockAcquire"),
      kind<ConditionWait>("ConditionWait", false),
      kind<ConditionWait>("ConditionWaitFor", true),
      kind<SemaphoreAcquire<weft::Semaphore>>("SemaphoreAcquire"),
      kind<SemaphoreAcquire<weft::BoundedSemaphore>>("BoundedSemaphoreAcquire"),
      kind<EventWait>("EventWait", false),
      kind<EventWait>("EventWaitTimed", true),
      kind<BarrierWait>("BarrierWait"),
      kind<ThreadJoin>("ThreadJoin"),
      kind<QueueGet<weft::Queue<int>>>("QueueGet", GetForm::get),
      kind<QueueGet<weft::Queue<int>>>("QueueGetTimed", GetForm::get_timed),
      kind<QueueGet<weft::Queue<int>>>("QueueGetMany", GetForm::get_many),
      kind<QueueGet<weft::LifoQueue<int>>>("LifoQueueGet", GetForm::get),
      kind<QueueGet<weft::PriorityQueue<int>>>("PriorityQueueGet",
                                               GetForm::get),
      kind<QueueGet<weft::SimpleQueue<int>>>("SimpleQueueGet",
                                             GetForm::get),
      kind<QueuePut<weft::Queue<int>>>("QueuePut", false),
      kind<QueuePut<weft::Queue<int>>>("QueuePutMany", true),
      kind<QueuePut<weft::LifoQueue<int>>>("LifoQueuePut", false),
      kind<QueuePut<weft::PriorityQueue<int>>>("PriorityQueuePut", false),
      kind<QueueJoin>("QueueJoin"),
      kind<Select>("Select"),
      kind<FutureWait>("FutureResult", FutureWait::Form::result),
      kind<FutureWait>("FutureException", FutureWait::Form::exception),
      kind<FutureWait>("Wait", FutureWait::Form::wait_all),
      kind<FutureWait>("AsCompleted", FutureWait::Form::as_completed),
      kind<FutureWait>("MapIteration", FutureWait::Form::map),
      kind<Sleep>("Sleep"),
  };
  return all;
}

// ---- the stops ----

enum class Stop { kCancelScope, kRequestStop, kTimeout, kCtrlC };

const char* name_of(Stop s) {
  switch (s) {
    case Stop::kCancelScope: return "CancelScope";
    case Stop::kRequestStop: return "RequestStop";
    case Stop::kTimeout: return "Timeout";
    case Stop::kCtrlC: return "CtrlC";
  }
  return "?";
}

// Joins `t` after `ident` was seen parked and `stop` ran; call.release() rescues a call the
// stop did not end.
template <class Join>
void stop_once_parked(std::uint64_t ident, Call& call, const std::function<void()>& stop,
                      Join join) {
  EXPECT_TRUE(weft::testing::wait_until_parked(ident)) << "the call never parked";
  stop();
  const bool rescued = weft::testing::run_with_rescue(join, [&] { call.release(); });
  EXPECT_FALSE(rescued) << "the stop did not end the blocked call";
}

void cell_cancel_scope(const CallKind& k) {
  auto call = k.make();
  std::stop_source stop;
  std::atomic<Ended> ended{Ended::kRunning};
  std::atomic<std::uint64_t> ident{0};
  std::thread t([&] {
    ident = weft::get_ident();
    weft::CancelScope scope(stop.get_token());
    ended = run_block<weft::CancelledError>(*call);
  });
  while (ident.load() == 0) std::this_thread::yield();
  stop_once_parked(ident.load(), *call, [&] { stop.request_stop(); }, [&] { t.join(); });
  expect_expected(ended, "CancelledError");
  call->expect_intact();
}

void cell_request_stop(const CallKind& k) {
  auto call = k.make();
  std::atomic<Ended> ended{Ended::kRunning};
  weft::Thread t([&] { ended = run_block<weft::CancelledError>(*call); });
  t.start();
  stop_once_parked(*t.ident(), *call, [&] { EXPECT_TRUE(t.request_stop()); }, [&] { t.join(); });
  expect_expected(ended, "CancelledError");
  call->expect_intact();
}

void cell_timeout(const CallKind& k) {
  weft::testing::run([&] {
    auto call = k.make();
    const auto t0 = weft::clock::now();
    Ended ended = Ended::kRunning;
    {
      weft::Timeout budget(5s);
      ended = run_block<weft::TimeoutError>(*call);
      EXPECT_TRUE(budget.expired());
    }
    EXPECT_EQ(weft::clock::now() - t0, 5s) << "not ended by the scope's deadline";
    expect_expected(ended, "TimeoutError");
    call->expect_intact();
  });
}

constexpr const char* kMatrixChildVariable = "WEFT_MATRIX_CHILD";

void cell_ctrl_c(const CallKind& k) {
  WEFT_SKIP_CTRL_C_UNDER_TSAN();
  const int status = weft::testing::child::run(
      {"MatrixChild.BlockedCallGetsCtrlC", kMatrixChildVariable, k.name}, true);
  EXPECT_TRUE(weft::testing::child::exited_with(status, 0))
      << "the child's own failures are in its output above";
}

// In the child: the main thread blocks in the call; a helper thread tells the parent once
// it parked, and the parent sends SIGINT.
TEST(MatrixChild, BlockedCallGetsCtrlC) {
  const char* name = std::getenv(kMatrixChildVariable);
  if (name == nullptr) GTEST_SKIP() << "runs in a child process of Matrix.*";
  const CallKind* k = nullptr;
  for (const CallKind& c : calls())
    if (std::string(c.name) == name) k = &c;
  ASSERT_NE(k, nullptr) << name;
  weft::install_keyboard_interrupt();
  auto call = k->make();
  const std::uint64_t main_ident = weft::get_ident();
  std::thread tell_parent([&] {
    if (weft::testing::wait_until_parked(main_ident)) weft::testing::child::signal_ready();
  });
  const Ended ended = run_block<weft::KeyboardInterrupt>(*call);
  tell_parent.join();
  expect_expected(ended, "KeyboardInterrupt");
  weft::check_interrupt();  // throwing consumed the signal
  call->expect_intact();
}

// ---- the matrix ----

class Matrix : public ::testing::TestWithParam<std::tuple<std::size_t, Stop>> {};

// "QueueGet_Timeout": the call's name and the stop's.
std::string cell_name(const ::testing::TestParamInfo<Matrix::ParamType>& cell) {
  return std::string(calls()[std::get<0>(cell.param)].name) + "_" +
         name_of(std::get<1>(cell.param));
}

TEST_P(Matrix, BlockedCallThrowsAndLeavesItsObjectIntact) {
  const CallKind& k = calls()[std::get<0>(GetParam())];
  switch (std::get<1>(GetParam())) {
    case Stop::kCancelScope: cell_cancel_scope(k); break;
    case Stop::kRequestStop: cell_request_stop(k); break;
    case Stop::kTimeout: cell_timeout(k); break;
    case Stop::kCtrlC: cell_ctrl_c(k); break;
  }
}

INSTANTIATE_TEST_SUITE_P(
    CallsByStops, Matrix,
    ::testing::Combine(::testing::Range<std::size_t>(0, calls().size()),
                       ::testing::Values(Stop::kCancelScope, Stop::kRequestStop, Stop::kTimeout,
                                         Stop::kCtrlC)),
    cell_name);

}  // namespace
