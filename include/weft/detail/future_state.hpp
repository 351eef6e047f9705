// SPDX-License-Identifier: Apache-2.0
// weft/detail/future_state.hpp: the shared state behind Future<R> (L4 internals).
//
// One heap object per task holds the status word, the result or exception, the
// listeners and, for executor tasks, the callable itself (TaskState), so submit()
// allocates once. Handles (Future<R>) and the executor's queue hold intrusive
// references; the last release deletes it.
//
// State word (word_): the phase in bits 0-1, the kParked / kListeners flags, and the
// reference count in the upper 32 bits, so that a worker's finish() and its release()
// are one atomic step when nobody waits or listens (finish_and_release).
//   kPending -> kRunning -> kFinished, or kPending -> kCancelled. "done" is bit 1.
//   (F1) try_claim(): CAS kPending -> kRunning (acq_rel). Exactly one of run / cancel
//        wins, so every task runs once or is cancelled, never both.
//   (F2) finish(): fetch_or(kDoneBit) (acq_rel) after the value or exception is stored,
//        publishing it. Pairs with the acquire load in done() / phase().
//   (F3) a waiter sets kParked before it parks on &word_ and validates "not done"
//        under the bucket lock; finish() reads kParked in the value its RMW returned
//        and then unparks everyone: no lost wake-up.
//   (F4) kListeners is set, under lock_, before a listener or callback is stored;
//        finish() takes lock_ only when it saw kListeners, and the adder re-reads the
//        phase from its own RMW, so a callback either sees "done" and runs at once or
//        is stored before finish() looks.
// Stopping a task (Future::request_stop), between a requester Q and the runner W:
//   (F5) Q, in one CAS that fails once done, sets kStopRequested and counts itself in
//        (kOneStopper). If that CAS saw kRunning, Q waits for runner_ (W stores it right
//        after (F1)) and interrupts W (kInterruptStop), requests stop on stop_source_ if
//        the task has one, then counts itself out.
//   (F6) W runs the task inside a TaskStopLink: it sets kInterruptStop on itself if the
//        stop came before (F1), and inner scopes that end keep the reason while the task's
//        stop is requested. finish() sees kStopRequested in its RMW: it waits until no Q
//        is counted in (no interrupt can then reach W any more), and then clears W's reason
//        unless an enclosing scope is stopped, so no stop leaks into W's next task.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <optional>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/cancel.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/exception_text.hpp"
#include "weft/detail/function_ref.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/lock.hpp"

namespace weft::detail {

// The input iterator of the ranges that produce their elements one at a time (map()'s
// results, as_completed(), Pool's chunked results). Owner provides `bool exhausted()`,
// `T& current_item()` (valid while not exhausted) and `void advance()`, which may block
// and may throw.
template <class Owner, class T>
class PullIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = T*;
  using reference = T&;

  PullIterator() = default;
  explicit PullIterator(Owner* owner) noexcept : owner_(owner) {}
  reference operator*() const { return owner_->current_item(); }
  pointer operator->() const { return &owner_->current_item(); }
  PullIterator& operator++() {
    owner_->advance();
    return *this;
  }
  void operator++(int) { owner_->advance(); }
  friend bool operator==(const PullIterator& it, std::default_sentinel_t) noexcept {
    return it.at_end();
  }

 private:
  bool at_end() const noexcept { return owner_ == nullptr || owner_->exhausted(); }
  Owner* owner_ = nullptr;
};

// The begin() / end() of such a range, for Owner deriving from PullRange<Owner, T>:
// begin() pulls the first element (Owner::advance()) once, so it may block and throw.
template <class Owner, class T>
class PullRange {
 public:
  using iterator = PullIterator<Owner, T>;
  iterator begin() {
    Owner* owner = static_cast<Owner*>(this);
    if (!started_) {
      owner->advance();  // an interrupted first wait leaves the range unstarted
      started_ = true;
    }
    return iterator(owner);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  bool started_ = false;
};

class FutureStateBase;

// Something that runs tasks on its own threads (ThreadPoolExecutor's core).
class ExecutorCore {
 public:
  // Called by result() on one of this executor's own workers for one of its tasks:
  // blocks until `s` is done or the deadline, and returns s->done(). Never runs another
  // task on the calling thread; while it blocks, the executor keeps a thread free for
  // its queue (a spare thread if needed), so waiting on the own pool cannot starve it.
  virtual bool wait_as_worker(FutureStateBase* s, Deadline deadline, SourceLoc loc) = 0;

 protected:
  ~ExecutorCore() = default;
};

// The executor whose worker the calling thread is (null on other threads).
ExecutorCore*& current_executor() noexcept;

// An internal listener used by wait() and as_completed(); notified under the future's
// lock, so it must not block and must stay alive until removed.
class FutureListener {
 public:
  virtual void on_done(FutureStateBase* s) noexcept = 0;

 protected:
  ~FutureListener() = default;
};

class FutureStateBase {
 public:
  static constexpr std::uint32_t kPending = 0, kRunning = 1, kCancelled = 2, kFinished = 3;
  static constexpr std::uint32_t kPhaseMask = 3, kDoneBit = 2;
  static constexpr std::uint32_t kParked = 4, kListeners = 8;
  static constexpr std::uint32_t kStopRequested = 16;  // (F5)
  static constexpr std::uint64_t kOneStopper = 32;     // request_stop() calls under way
  static constexpr int kRefShift = 32;
  static constexpr std::uint64_t kOneRef = std::uint64_t{1} << kRefShift;
  static constexpr std::uint64_t kStoppers = kOneRef - kOneStopper;  // their count's bits
  // What makes finish() take its slow path.
  static constexpr std::uint64_t kFinishSlow = kParked | kListeners | kStopRequested | kStoppers;

  using Callback = std::function<void(FutureStateBase*)>;

  FutureStateBase() noexcept = default;
  // Starts with `refs` references (a TaskState: one for the queue, one for the Future),
  // stored before the state is shared, so no atomic read-modify-write is needed.
  explicit FutureStateBase(std::uint32_t refs) noexcept : word_(refs * kOneRef) {}
  FutureStateBase(const FutureStateBase&) = delete;
  FutureStateBase& operator=(const FutureStateBase&) = delete;

  // A thread reuses the state blocks it frees, up to as many as it allocated and 16 MiB
  // (src/futures/state_alloc.cpp), so bursts of tasks do not fault pages in again.
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;

  void add_ref() noexcept { word_.fetch_add(kOneRef, std::memory_order_relaxed); }
  void release() noexcept {
    if ((word_.fetch_sub(kOneRef, std::memory_order_acq_rel) >> kRefShift) == 1) delete this;
  }

  std::uint32_t phase() const noexcept {
    return static_cast<std::uint32_t>(word_.load(std::memory_order_acquire)) & kPhaseMask;
  }
  bool done() const noexcept { return (word_.load(std::memory_order_acquire) & kDoneBit) != 0; }

  // (F1) kPending -> kRunning. False if cancelled or already claimed.
  bool try_claim() noexcept {
    std::uint64_t s = word_.load(std::memory_order_relaxed);
    while ((s & kPhaseMask) == kPending) {
      if (word_.compare_exchange_weak(s, s | kRunning, std::memory_order_acq_rel,
                                      std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  // kPending -> kCancelled and notify. True if cancelled now or before.
  bool cancel();

  // Stores an exception and finishes; the caller has claimed the state.
  void finish_with(std::exception_ptr e) noexcept {
    exc_ = std::move(e);
    finish();
  }
  void store_exception(std::exception_ptr e) noexcept { exc_ = std::move(e); }
  // (F2) Marks a claimed state finished and notifies waiters, listeners, callbacks.
  void finish() noexcept {
    const std::uint64_t old = word_.fetch_or(kDoneBit, std::memory_order_acq_rel);
    if ((old & kFinishSlow) != 0) notify_slow(static_cast<std::uint32_t>(old));
  }
  // finish() then release(): one compare-and-swap when nobody waits or listens (F2).
  // With waiters or listeners, they are notified while this reference keeps the state
  // alive, then it is released.
  void finish_and_release() noexcept {
    std::uint64_t old = word_.load(std::memory_order_relaxed);
    do {
      if ((old & kFinishSlow) != 0) {
        finish();
        release();
        return;
      }
    } while (!word_.compare_exchange_weak(old, (old | kDoneBit) - kOneRef,
                                          std::memory_order_acq_rel, std::memory_order_relaxed));
    if ((old >> kRefShift) == 1) delete this;
  }

  // Blocks until done or the deadline; true when done. On a worker of the executor
  // that owns this task, the executor's wait_as_worker() (no pool deadlock).
  bool wait_until(Deadline deadline, SourceLoc loc);
  // Parks until done or the deadline; true when done. Runs nothing meanwhile.
  bool block_until(Deadline deadline, SourceLoc loc);
  // Same, but also returns (false) once stay() is false; whoever makes it false then
  // unparks park_key()'s waiters.
  bool block_until(Deadline deadline, SourceLoc loc, FunctionRef<bool()> stay);

  // The stored exception (null if none). Valid once done() and not cancelled.
  const std::exception_ptr& stored_exception() const noexcept { return exc_; }

  // Throws CancelledError if cancelled; otherwise rethrows the stored exception if any.
  void check_result() const;

  // Runs fn now (in this thread) if done, else stores it; each callback runs once.
  void add_callback(Callback fn);
  // Listeners for wait()/as_completed(). add_listener returns false (not added) if done.
  bool add_listener(FutureListener* l);
  void remove_listener(FutureListener* l);

  // The parking key of this future's waiters.
  const void* park_key() const noexcept { return &word_; }

  // (F5) Future::request_stop(): false if done; else the running task is interrupted, a
  // pending one will start stopped. Never blocks for long (see (F5)).
  bool request_stop() noexcept;
  // (F6) True once request_stop() was called (before done).
  bool stop_requested() const noexcept {
    return (word_.load(std::memory_order_acquire) & kStopRequested) != 0;
  }

  // Claims and runs the task (TaskState), storing its value or exception without
  // finishing; false if it was not claimed (cancelled or run elsewhere). Plain futures
  // have nothing to run.
  virtual bool execute() noexcept { return false; }
  // execute() then finish().
  void run() noexcept {
    if (execute()) finish();
  }

  ExecutorCore* owner_ = nullptr;      // executor that will run it, if any
  FutureStateBase* next_ = nullptr;    // intrusive link of the executor queue
  std::uint64_t task_id_ = 0;          // for the debug hooks
  // (F5) the thread running a task (TaskState only; stored once, right after (F1)).
  std::atomic<ThreadData*> runner_{nullptr};
  bool has_runner_ = false;            // a TaskState: a claimed task sets runner_
  std::uint32_t state_bytes_ = 0;      // a TaskState: its size (the executor prefetches it)
  std::stop_source stop_source_{std::nostopstate};  // a task that takes a std::stop_token

 protected:
  virtual ~FutureStateBase();

 private:
  struct Listeners {
    std::vector<FutureListener*> listeners;
    std::vector<Callback> callbacks;
  };
  WEFT_NOINLINE void notify_slow(std::uint32_t old) noexcept;

  std::atomic<std::uint64_t> word_{kOneRef | kPending};  // references, phase, flags
  InternalLock lock_;                      // guards extra_
  Listeners* extra_ = nullptr;     // allocated on first callback / listener
  std::exception_ptr exc_;
};

// Bytes of freed states the calling thread keeps for reuse (0 under AddressSanitizer).
std::size_t cached_state_bytes() noexcept;

// Runs user callbacks; one that throws is reported on stderr and the others still run.
void run_callback(const FutureStateBase::Callback& cb, FutureStateBase* s) noexcept;


template <class R>
class FutureState : public FutureStateBase {
  static_assert(!std::is_reference_v<R>,
                "weft::Future<R&> is not supported: return by value, a pointer or a "
                "std::reference_wrapper");

 public:
  using FutureStateBase::FutureStateBase;
  template <class... A>
  void set_value(A&&... a) {
    value_.emplace(std::forward<A>(a)...);
  }
  // A copy when R is copyable (every result() call sees the value); else moved out once.
  R get() {
    if constexpr (std::is_copy_constructible_v<R>) {
      return *value_;
    } else {
      return std::move(*value_);
    }
  }

 private:
  std::optional<R> value_;
};

template <>
class FutureState<void> : public FutureStateBase {
 public:
  using FutureStateBase::FutureStateBase;
  void set_value() noexcept {}
  void get() noexcept {}
};

// (F6) The stop scope of a running task: a link of the runner's chain whose stop is the
// task's request_stop(). Ends without touching the thread's reason: finish() does that.
class TaskStopLink final : public StopScopeLink {
 public:
  explicit TaskStopLink(FutureStateBase& task) noexcept : task_(task) {
    ThreadData& me = current_thread_data();
    task.runner_.store(&me, std::memory_order_release);
    if (task.stop_requested()) add_interrupt_reasons(me, kInterruptStop);
  }
  bool stop_requested() const noexcept override { return task_.stop_requested(); }

 private:
  FutureStateBase& task_;
};

// True if fn(token, args...) is how a task is called: its first parameter takes a
// std::stop_token (the std::jthread convention), which Future::request_stop() stops.
template <class F, class... Args>
inline constexpr bool kTaskTakesStopToken =
    std::is_invocable_v<std::decay_t<F>&, std::stop_token, std::decay_t<Args>...>;

// The result type of a task fn(args...) or fn(token, args...).
template <class F, class... Args>
struct TaskResult {
  using type = std::invoke_result_t<F, Args...>;
};
template <class F, class... Args>
  requires kTaskTakesStopToken<F, Args...>
struct TaskResult<F, Args...> {
  using type = std::invoke_result_t<std::decay_t<F>&, std::stop_token, std::decay_t<Args>...>;
};
template <class F, class... Args>
using task_result_t = typename TaskResult<F, Args...>::type;

// A queued task: the future's state plus the callable that produces its result, called
// as fn() or, if it takes one, fn(stop_token).
// Born with two references: one for the executor's queue, one for the Future.
template <class R, class Fn>
class TaskState final : public FutureState<R> {
 public:
  explicit TaskState(Fn&& fn) : FutureState<R>(2u), fn_(std::move(fn)) {
    this->has_runner_ = true;
    this->state_bytes_ = sizeof(TaskState);
    if constexpr (kTakesToken) this->stop_source_ = std::stop_source();
  }

  bool execute() noexcept override {
    if (!this->try_claim()) return false;
    const bool debug = debug_on();
    if (debug) hooks::task_begin(this->owner_, this->task_id_);
    try {
      TaskStopLink link(*this);
      if constexpr (std::is_void_v<R>) {
        call();
      } else {
        this->set_value(call());
      }
    } catch (...) {
      this->store_exception(std::current_exception());
    }
    fn_.reset();  // drop captured arguments as soon as the task is over
    if (debug) hooks::task_end(this->owner_, this->task_id_);
    return true;
  }

 private:
  static constexpr bool kTakesToken = std::is_invocable_v<Fn&, std::stop_token>;
  R call() {
    if constexpr (kTakesToken) {
      return (*fn_)(this->stop_source_.get_token());
    } else {
      return (*fn_)();
    }
  }

  std::optional<Fn> fn_;
};

}  // namespace weft::detail
