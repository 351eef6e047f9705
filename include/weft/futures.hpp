// SPDX-License-Identifier: Apache-2.0
// weft/futures.hpp: Future, ThreadPoolExecutor, wait, as_completed.
//                                                      (Python: concurrent.futures)
//
// Design: docs/design.md (L4 executors). The shared state is in
// weft/detail/future_state.hpp; the pool's out-of-line core in src/futures/.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/future_state.hpp"
#include "weft/errors.hpp"

namespace weft {

template <class R>
class Future;

namespace detail {
template <class R>
Future<R> adopt_future(FutureState<R>* s) noexcept;  // takes over one reference
template <class R>
FutureState<R>* future_state(const Future<R>& f) noexcept;
}  // namespace detail

/// Future<R>: a copyable handle to the result of one asynchronous call.
///                                                 (Python: concurrent.futures.Future)
///
/// State: pending -> running -> finished (a value or an exception), or
/// pending -> cancelled. done() is true when finished or cancelled.
///
///   state \ call | cancel()              | result()
///   pending      | -> cancelled, true    | blocks
///   running      | false                 | blocks
///   finished     | false                 | the value, or rethrows the task's exception
///   cancelled    | true                  | CancelledError
///
/// Guarantees
///   Memory:  for any threads X and Y, everything the task did (on X) before it
///            finished is visible to Y once Y's done() returns true or Y's result() /
///            exception() returns.
///   Each done callback runs exactly once, in registration order, on the thread that
///   completed the future, or at once on the adding thread if it is already done.
///   Exactly one of "the task ran" and "cancel() returned true" happens.
/// Fairness: n/a: completion wakes every waiter.
/// Blocking: result() and exception() block until done; the timed forms wait at least
///   the timeout, then throw TimeoutError (zero or negative: check once). On a worker of
///   the ThreadPoolExecutor that runs the task, result() never runs other tasks on the
///   waiting thread (so never under the locks the waiter holds): the waiter lends its
///   place to a spare thread, so tasks that wait for tasks of the same pool cannot
///   starve it (Python documents a deadlock there). See ThreadPoolExecutor.
/// Cost:     done(), cancelled(), running() are one acquire load; completion with no
///           waiter and no callback is one atomic RMW and no system call.
/// Lifetime: handles may outlive the executor; the state is freed with the last
///           handle. All members may be called concurrently.
/// Identity: copies of a handle are the same future. ==, <=> and std::hash compare
///           the shared state (as Python hashes a future by identity), so a Future is
///           a key of std::unordered_map, std::map and the sets. The order is
///           arbitrary (by address), not submission or completion order.
/// Invalid:  set_result()/set_exception() on a done future throw RuntimeError (Python:
///           InvalidStateError). A default-constructed Future is a fresh pending
///           future (Python's Future()); moved-from handles may only be assigned to.
///
///   weft::ThreadPoolExecutor pool(4);
///   weft::Future<int> f = pool.submit([](int x) { return x * x; }, 7);
///   f.add_done_callback([](weft::Future<int> g) { std::printf("%d\n", g.result()); });
///   int v = f.result();                       // 49
template <class R>
class Future {
 public:
  /// A new pending future, completed with set_result / set_exception.
  Future() : s_(new detail::FutureState<R>()) {}
  Future(const Future& o) noexcept : s_(o.s_) {
    if (s_ != nullptr) s_->add_ref();
  }
  Future(Future&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Future& operator=(Future o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Future() {
    if (s_ != nullptr) s_->release();
  }

  /// Waits for the result. Throws: the task's exception (same type); CancelledError.
  R result(detail::SourceLoc loc = detail::SourceLoc::current()) {
    s_->wait_until(detail::kForever, loc);
    s_->check_result();
    return s_->get();
  }
  /// Waits at most `timeout`. Throws: TimeoutError when still not done.
  template <class Rep, class Period>
  R result(std::chrono::duration<Rep, Period> timeout,
           detail::SourceLoc loc = detail::SourceLoc::current()) {
    if (!s_->wait_until(detail::deadline_after(timeout), loc)) throw TimeoutError("future timed out");
    s_->check_result();
    return s_->get();
  }

  /// The task's exception, or null if it returned normally. Throws: CancelledError.
  std::exception_ptr exception(detail::SourceLoc loc = detail::SourceLoc::current()) {
    s_->wait_until(detail::kForever, loc);
    return checked_exception();
  }
  template <class Rep, class Period>
  std::exception_ptr exception(std::chrono::duration<Rep, Period> timeout,
                               detail::SourceLoc loc = detail::SourceLoc::current()) {
    if (!s_->wait_until(detail::deadline_after(timeout), loc)) throw TimeoutError("future timed out");
    return checked_exception();
  }

  /// Cancels a pending future. Returns: true if it is (now or already) cancelled,
  /// false if it is running or finished. Wakes: waiters; runs the callbacks.
  bool cancel() { return s_->cancel(); }
  /// Beyond Python: stops a running task of a ThreadPoolExecutor as Thread::request_stop
  /// stops a thread: the task's blocking weft calls throw CancelledError, also one already
  /// blocked, and a task whose first parameter is a std::stop_token sees stop requested.
  /// The future then holds what the task ended with (a CancelledError that escapes the
  /// task makes result() throw it). A task not started yet starts stopped (cancel()
  /// removes it instead). Returns: false if the future is already done.
  bool request_stop() noexcept { return s_->request_stop(); }
  bool cancelled() const noexcept { return s_->phase() == detail::FutureStateBase::kCancelled; }
  bool running() const noexcept { return s_->phase() == detail::FutureStateBase::kRunning; }
  bool done() const noexcept { return s_->done(); }

  /// Calls fn(*this) once the future is done (at once, on this thread, if it is).
  /// An exception fn throws is reported on stderr; the other callbacks still run.
  void add_done_callback(std::function<void(Future<R>)> fn) {
    s_->add_callback([fn = std::move(fn)](detail::FutureStateBase* s) {
      s->add_ref();
      fn(detail::adopt_future(static_cast<detail::FutureState<R>*>(s)));
    });
  }

  // For executors and tests (Python keeps these for Executor implementers).
  /// pending -> running; false (and nothing changes) if it was cancelled.
  /// Throws RuntimeError if it is already running or done.
  bool set_running_or_notify_cancel() {
    if (s_->try_claim()) return true;
    if (cancelled()) return false;
    throw RuntimeError("Future in unexpected state");
  }
  /// Finishes with a value. Throws RuntimeError if already done.
  template <class... A>
  void set_result(A&&... value) {
    claim_for_set();
    try {
      s_->set_value(std::forward<A>(value)...);
    } catch (...) {
      s_->finish_with(std::current_exception());
      throw;
    }
    s_->finish();
  }
  /// Finishes with an exception. Throws RuntimeError if already done.
  void set_exception(std::exception_ptr e) {
    claim_for_set();
    s_->finish_with(std::move(e));
  }

  /// Identity: true when both handles refer to the same future.
  friend bool operator==(const Future& a, const Future& b) noexcept { return a.s_ == b.s_; }
  /// A strict total order on futures by identity (arbitrary but stable while they live).
  friend std::strong_ordering operator<=>(const Future& a, const Future& b) noexcept {
    return std::compare_three_way{}(a.s_, b.s_);
  }

 private:
  template <class T>
  friend Future<T> detail::adopt_future(detail::FutureState<T>*) noexcept;
  template <class T>
  friend detail::FutureState<T>* detail::future_state(const Future<T>&) noexcept;
  struct Adopt {};
  Future(Adopt, detail::FutureState<R>* s) noexcept : s_(s) {}

  void claim_for_set() {
    if (s_->try_claim()) return;
    if (s_->phase() == detail::FutureStateBase::kRunning) return;  // set by its runner
    throw RuntimeError("InvalidStateError: future is already done");
  }
  std::exception_ptr checked_exception() const {
    if (cancelled()) throw CancelledError("future was cancelled");
    return s_->stored_exception();
  }

  detail::FutureState<R>* s_;
};

namespace detail {
template <class R>
Future<R> adopt_future(FutureState<R>* s) noexcept {
  return Future<R>(typename Future<R>::Adopt{}, s);
}
template <class R>
FutureState<R>* future_state(const Future<R>& f) noexcept {
  return f.s_;
}

// The out-of-line core of ThreadPoolExecutor (src/futures/thread_pool.cpp).
class ThreadPoolCore;
ThreadPoolCore* make_thread_pool(std::size_t max_workers, std::string prefix,
                                 std::function<void()> initializer);
void destroy_thread_pool(ThreadPoolCore* core) noexcept;
ExecutorCore* as_executor(ThreadPoolCore* core) noexcept;
// Queues a task (takes over one reference). Throws RuntimeError after shutdown,
// BrokenExecutor when broken. With a pending bound: blocks until there is room, or
// returns false at the deadline (the reference is then still the caller's).
bool pool_submit(ThreadPoolCore* core, FutureStateBase* task, Deadline deadline);
void pool_shutdown(ThreadPoolCore* core, bool wait, bool cancel_futures);
void pool_set_max_pending(ThreadPoolCore* core, std::size_t n) noexcept;

// map()'s submissions: submit_one(x) for every input, in order; if one throws, the
// futures already made are cancelled and the exception propagates.
template <class R, class Range, class SubmitOne>
std::vector<Future<R>> submit_each(Range& inputs, SubmitOne submit_one) {
  std::vector<Future<R>> fs;
  if constexpr (requires { std::size(inputs); }) fs.reserve(std::size(inputs));
  try {
    for (auto&& x : inputs) fs.push_back(submit_one(x));
  } catch (...) {
    for (auto& f : fs) f.cancel();
    throw;
  }
  return fs;
}

// The results of map(): an input range over futures, in order, with one deadline.
template <class R>
class MapResults
    : public PullRange<MapResults<R>, std::conditional_t<std::is_void_v<R>, std::monostate, R>> {
 public:
  using value_type = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

  MapResults(std::vector<Future<R>> fs, Deadline deadline)
      : fs_(std::move(fs)), deadline_(deadline) {}
  MapResults(MapResults&&) noexcept = default;
  MapResults& operator=(MapResults&&) noexcept = default;
  // Python cancels the calls not yet consumed when the generator is dropped.
  ~MapResults() {
    for (std::size_t i = next_; i < fs_.size(); ++i) fs_[i].cancel();
  }

  // begin() blocks for the first result. Throws: the task's exception, TimeoutError.
  using iterator = PullIterator<MapResults, value_type>;
  std::size_t size() const noexcept { return fs_.size(); }

 private:
  friend iterator;
  friend PullRange<MapResults, value_type>;
  bool exhausted() const noexcept { return !current_.has_value(); }
  value_type& current_item() noexcept { return *current_; }
  void advance() {
    current_.reset();
    if (next_ >= fs_.size()) return;
    Future<R>& f = fs_[next_++];
    if (deadline_ != kForever) {
      const Clock::duration left = time_left(deadline_);
      if constexpr (std::is_void_v<R>) {
        f.result(left);
        current_.emplace();
      } else {
        current_.emplace(f.result(left));
      }
    } else if constexpr (std::is_void_v<R>) {
      f.result();
      current_.emplace();
    } else {
      current_.emplace(f.result());
    }
  }

  std::vector<Future<R>> fs_;
  Deadline deadline_;
  std::size_t next_ = 0;
  std::optional<value_type> current_;
};

// map() of every executor: ex.submit(fn, x) for every input, in order (as submit_each),
// then the results in input order with one deadline.
template <class R, class Executor, class F, class Range>
MapResults<R> map_results(Executor& ex, F& fn, Range& inputs, Deadline deadline) {
  return MapResults<R>(submit_each<R>(inputs, [&](auto&& x) { return ex.submit(fn, x); }),
                       deadline);
}
}  // namespace detail

/// ThreadPoolExecutor: runs calls on a pool of weft threads.
///                                   (Python: concurrent.futures.ThreadPoolExecutor)
///
/// State: running -> shut down (shutdown() or the destructor), or broken when an
/// initializer throws (every queued and later task fails with BrokenExecutor).
/// Workers start lazily, one per submit() that finds no idle worker, up to
/// max_workers, and are weft::Threads named PREFIX_N (N from 0; the default prefix is
/// "ThreadPoolExecutor-K", K counting pools from 0, as in Python).
///
/// Guarantees
///   Memory:  everything a thread did before submit() is visible to the task.
///   Tasks start in submission order (FIFO queue); each runs at most once.
///   shutdown(cancel_futures = true) loses nothing: each submitted task either runs to
///   completion or its future reports cancelled.
/// Fairness: FIFO dispatch; no priorities.
/// Blocking: submit() blocks only when a pending bound is set (set_max_pending) and
///   the queue is full. try_submit(timeout, ...) gives up after the timeout.
///   shutdown(true) and the destructor block until every queued task has run (or been
///   cancelled).
///   A worker that blocks on its own pool -- in result() or exception() of one of the
///   pool's unfinished tasks, or in submit() at the pending bound -- runs nothing else
///   meanwhile. When every thread of the pool is so blocked while tasks are queued, the
///   pool starts a spare thread (it lends the blocked worker's place), so waiting on
///   the own pool cannot starve it. At most max_workers + 64 threads exist; a thread
///   leaves before taking its next task while more than max_workers threads are not
///   blocked, so beyond max_workers only threads standing in for blocked workers run
///   tasks (and tasks that were running when a waiter resumed, until they end).
///   Beyond that bound, or when no thread can be started, one worker blocked in
///   result() on a task that has not started runs that task (only that one) on its own
///   thread, nested at most 16 deep per thread; when no blocked worker can, they all
///   keep waiting: that many waits on the own pool can deadlock, as every such wait
///   does in Python.
/// Cost:     submit is one allocation (state and callable together), one short
///           critical section, and a wake-up only when a worker sleeps and no idle
///           worker is spinning or already being woken (a burst wakes one; each woken
///           worker that finds more queued wakes the next).
/// Lifetime: the destructor is shutdown(true). Futures may outlive the executor.
///           All members may be called concurrently.
/// Invalid:  submit after shutdown throws RuntimeError("cannot schedule new futures
///           after shutdown"). Destroying the executor from one of its own tasks is
///           undefined (shutdown(true) from a task does not join its own thread).
///
///   weft::ThreadPoolExecutor pool(4, "fetch");
///   auto f = pool.submit([] { return std::string("done"); });
///   for (int sq : pool.map([](int x) { return x * x; }, std::vector{1, 2, 3})) use(sq);
class ThreadPoolExecutor {
 public:
  explicit ThreadPoolExecutor(std::size_t max_workers = 0, std::string thread_name_prefix = {},
                              std::function<void()> initializer = {})
      : core_(detail::make_thread_pool(max_workers, std::move(thread_name_prefix),
                                       std::move(initializer))) {}
  /// A signed max_workers (ThreadPoolExecutor(4)): ValueError if it is negative.
  template <std::signed_integral Int, class... Rest>
  explicit ThreadPoolExecutor(Int max_workers, Rest&&... rest)
      : ThreadPoolExecutor(detail::non_negative_count(max_workers, "max_workers"),
                           std::forward<Rest>(rest)...) {}
  ~ThreadPoolExecutor() { detail::destroy_thread_pool(core_); }
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

  /// Schedules fn(args...) (both decay-copied). Returns its Future.
  /// Throws: RuntimeError after shutdown; BrokenExecutor when broken.
  /// fn(stop_token, args...) if fn takes a std::stop_token first (see request_stop).
  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) -> Future<detail::task_result_t<F, Args...>> {
    using R = detail::task_result_t<F, Args...>;
    auto* t = make_task<R>(std::forward<F>(fn), std::forward<Args>(args)...);
    try {
      detail::pool_submit(core_, t, detail::kForever);
    } catch (...) {
      t->release();
      t->release();
      throw;
    }
    return detail::adopt_future<R>(t);
  }

  /// Backpressure (beyond Python): like submit, but when a pending bound is set and the
  /// queue stays full for `timeout`, returns nullopt and schedules nothing.
  template <class Rep, class Period, class F, class... Args>
  auto try_submit(std::chrono::duration<Rep, Period> timeout, F&& fn, Args&&... args)
      -> std::optional<Future<detail::task_result_t<F, Args...>>> {
    using R = detail::task_result_t<F, Args...>;
    auto* t = make_task<R>(std::forward<F>(fn), std::forward<Args>(args)...);
    bool queued = false;
    try {
      queued = detail::pool_submit(core_, t, detail::deadline_after(timeout));
    } catch (...) {
      t->release();
      t->release();
      throw;
    }
    if (!queued) {
      t->release();
      t->release();
      return std::nullopt;
    }
    return detail::adopt_future<R>(t);
  }

  /// Bounds the tasks queued but not started (0: unbounded, the default). While the
  /// bound is reached, submit() blocks and try_submit() waits at most its timeout.
  void set_max_pending(std::size_t n) noexcept { detail::pool_set_max_pending(core_, n); }

  /// Submits fn(x) for every x of `inputs` now; returns a range of the results in input
  /// order that blocks as needed and rethrows a task's exception at its element.
  /// Dropping the range cancels the calls whose results were not reached.
  template <class F, class Range>
  auto map(F&& fn, Range&& inputs) {
    return detail::map_results<result_of_map<F, Range>>(*this, fn, inputs, detail::kForever);
  }
  /// As map(fn, inputs), with one deadline for the whole iteration: reaching an element
  /// after the deadline without its result throws TimeoutError.
  template <class F, class Range, class D>
  auto map(F&& fn, Range&& inputs, D timeout) {
    const detail::Deadline deadline = detail::deadline_after(timeout);
    return detail::map_results<result_of_map<F, Range>>(*this, fn, inputs, deadline);
  }

  /// Stops accepting work. cancel_futures: cancels every task not started yet.
  /// wait: blocks until all running and queued tasks are done and the workers exit.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    detail::pool_shutdown(core_, wait, cancel_futures);
  }

 private:
  template <class F, class Range>
  using result_of_map =
      std::invoke_result_t<F&, decltype(*std::begin(std::declval<Range&>()))>;

  template <class R, class F, class... Args>
  detail::FutureState<R>* make_task(F&& fn, Args&&... args) {
    if constexpr (detail::kTaskTakesStopToken<F, Args...>) {
      auto call = [fn = std::forward<F>(fn), tup = std::make_tuple(std::forward<Args>(args)...)](
                      std::stop_token token) mutable -> R {
        return std::apply(fn, std::tuple_cat(std::forward_as_tuple(std::move(token)),
                                             std::move(tup)));
      };
      return adopt_task<R>(std::move(call));
    } else {
      auto call = [fn = std::forward<F>(fn),
                   tup = std::make_tuple(std::forward<Args>(args)...)]() mutable -> R {
        return std::apply(fn, std::move(tup));
      };
      return adopt_task<R>(std::move(call));
    }
  }
  template <class R, class Call>
  detail::FutureState<R>* adopt_task(Call&& call) {
    auto* t = new detail::TaskState<R, std::decay_t<Call>>(std::move(call));
    t->owner_ = detail::as_executor(core_);  // born with two references (TaskState)
    return t;
  }

  detail::ThreadPoolCore* core_;
};

enum class ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };

template <class R>
struct DoneAndNotDone {
  std::vector<Future<R>> done, not_done;
};

namespace detail {
// Blocks until `pred(count_done, saw_exception)` or the deadline; out-of-line core of
// wait(). states: distinct, non-null.
void wait_for_states(const std::vector<FutureStateBase*>& states, ReturnWhen when,
                     Deadline deadline, SourceLoc loc);

// A listener that queues futures as they complete, for as_completed().
class CompletionQueue final : public FutureListener {
 public:
  CompletionQueue() = default;
  void on_done(FutureStateBase* s) noexcept override;
  // Next completed state, or null at the deadline.
  FutureStateBase* pop(Deadline deadline, SourceLoc loc);
  void push(FutureStateBase* s);
  // Room for n entries, so that on_done() never allocates.
  void reserve(std::size_t n) { ready_.reserve(n); }

 private:
  std::atomic<std::uint32_t> seq_{0};
  InternalLock lock_;
  std::vector<FutureStateBase*> ready_;
  std::size_t head_ = 0;
};

template <class T>
struct FutureTraits {
  static constexpr bool is_future = false;
};
template <class R>
struct FutureTraits<Future<R>> {
  static constexpr bool is_future = true;
  using result_type = R;
};

// What wait() and as_completed() accept: any input range whose elements are Future<R>
// (a std::vector, std::list, std::set, std::span, std::views::keys of a map, ...).
template <class Fs>
concept FutureRange = std::ranges::input_range<Fs> &&
                      FutureTraits<std::ranges::range_value_t<Fs>>::is_future;
template <class Fs>
using future_range_result_t =
    typename FutureTraits<std::ranges::range_value_t<Fs>>::result_type;

// A timeout of wait() / as_completed(): any std::chrono::duration, an optional of one
// (empty: no timeout), or std::nullopt.
template <class T>
struct TimeoutTraits {
  static constexpr bool ok = false;
};
template <class Rep, class Period>
struct TimeoutTraits<std::chrono::duration<Rep, Period>> {
  static constexpr bool ok = true;
};
template <class Rep, class Period>
struct TimeoutTraits<std::optional<std::chrono::duration<Rep, Period>>> {
  static constexpr bool ok = true;
};
template <>
struct TimeoutTraits<std::nullopt_t> {
  static constexpr bool ok = true;
};
template <class T>
concept OptionalTimeout = TimeoutTraits<T>::ok;

template <class Rep, class Period>
Deadline deadline_of(std::chrono::duration<Rep, Period> timeout) {
  return deadline_after(timeout);
}
template <class D>
Deadline deadline_of(const std::optional<D>& timeout) {
  return deadline_from(timeout);
}
inline Deadline deadline_of(std::nullopt_t) noexcept { return kForever; }

// The futures of fs without duplicates (same shared state), first occurrence kept, in
// input order. Throws: RuntimeError for a moved-from Future.
template <class R, class Fs>
std::vector<Future<R>> unique_futures(Fs&& range) {
  std::vector<Future<R>> fs;
  if constexpr (std::ranges::sized_range<Fs>) fs.reserve(std::ranges::size(range));
  for (auto&& f : range) {
    if (future_state(f) == nullptr) throw RuntimeError("wait/as_completed: a moved-from Future");
    fs.emplace_back(f);
  }
  std::vector<std::size_t> idx(fs.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  auto key = [&](std::size_t i) { return static_cast<const void*>(future_state(fs[i])); };
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    return std::less<const void*>()(key(a), key(b));
  });
  std::vector<bool> keep(fs.size(), true);
  for (std::size_t i = 1; i < idx.size(); ++i)
    if (key(idx[i]) == key(idx[i - 1])) keep[idx[i]] = false;
  std::vector<Future<R>> out;
  out.reserve(fs.size());
  for (std::size_t i = 0; i < fs.size(); ++i)
    if (keep[i]) out.push_back(std::move(fs[i]));
  return out;
}

// The range as_completed() returns.
template <class R>
class AsCompleted : public PullRange<AsCompleted<R>, Future<R>> {
 public:
  // fs: any FutureRange; read once, duplicates dropped.
  template <class Fs>
    requires FutureRange<Fs> && (!std::is_same_v<std::remove_cvref_t<Fs>, AsCompleted>)
  AsCompleted(Fs&& fs, Deadline deadline, SourceLoc loc)
      : q_(std::make_unique<CompletionQueue>()),
        pending_(unique_futures<R>(std::forward<Fs>(fs))),
        deadline_(deadline),
        loc_(loc) {
    total_ = pending_.size();
    q_->reserve(total_);
    // Done ones first, in input order; the others are delivered by the listener.
    for (auto& f : pending_) {
      FutureStateBase* s = future_state(f);
      if (!s->add_listener(q_.get())) q_->push(s);
    }
  }
  AsCompleted(AsCompleted&&) noexcept = default;
  AsCompleted& operator=(AsCompleted&&) noexcept = default;
  ~AsCompleted() {
    if (q_ == nullptr) return;
    for (auto& f : pending_) future_state(f)->remove_listener(q_.get());
  }

  // begin() blocks for the first completed future. Throws: TimeoutError.
  using iterator = PullIterator<AsCompleted, Future<R>>;

 private:
  friend iterator;
  friend PullRange<AsCompleted, Future<R>>;
  bool exhausted() const noexcept { return !current_.has_value(); }
  Future<R>& current_item() noexcept { return *current_; }
  void advance() {
    current_.reset();
    if (yielded_ == total_) return;
    FutureStateBase* s = q_->pop(deadline_, loc_);
    if (s == nullptr)
      throw TimeoutError(std::to_string(total_ - yielded_) + " (of " + std::to_string(total_) +
                         ") futures unfinished");
    ++yielded_;
    s->add_ref();
    current_.emplace(adopt_future(static_cast<FutureState<R>*>(s)));
  }

  std::unique_ptr<CompletionQueue> q_;
  std::vector<Future<R>> pending_;  // keeps the states alive while listening
  std::size_t total_ = 0;
  std::size_t yielded_ = 0;
  Deadline deadline_;
  SourceLoc loc_;
  std::optional<Future<R>> current_;
};

// wait() on distinct futures.
template <class R>
DoneAndNotDone<R> wait_unique(const std::vector<Future<R>>& uniq, Deadline deadline,
                              ReturnWhen return_when, SourceLoc loc) {
  std::vector<FutureStateBase*> states;
  states.reserve(uniq.size());
  for (auto& f : uniq) states.push_back(future_state(f));
  wait_for_states(states, return_when, deadline, loc);
  DoneAndNotDone<R> out;
  for (auto& f : uniq) (f.done() ? out.done : out.not_done).push_back(f);
  return out;
}
}  // namespace detail

/// Waits until `return_when` holds for `fs` or the timeout passes; never throws on
/// timeout (the not_done set says what is left). Cancelled futures count as done.
/// FIRST_EXCEPTION returns when a future finishes with an exception, else acts as
/// ALL_COMPLETED. Duplicates in fs are reported once.     (Python: futures.wait)
///
/// fs: any input range of Future<R> (std::vector, std::list, std::set, std::span,
/// std::views::keys of a map, ...), or a braced list {f1, f2}. The range is read once,
/// before waiting. timeout: any std::chrono::duration (2.5s, 100ms), an optional of
/// one, or std::nullopt / {} (no timeout). Throws: RuntimeError for a moved-from Future.
template <class Fs, class Timeout = std::optional<std::chrono::nanoseconds>>
  requires detail::FutureRange<Fs> && detail::OptionalTimeout<Timeout>
DoneAndNotDone<detail::future_range_result_t<Fs>> wait(
    Fs&& fs, Timeout timeout = {}, ReturnWhen return_when = ReturnWhen::ALL_COMPLETED,
    detail::SourceLoc loc = detail::SourceLoc::current()) {
  using R = detail::future_range_result_t<Fs>;
  return detail::wait_unique(detail::unique_futures<R>(std::forward<Fs>(fs)),
                             detail::deadline_of(timeout), return_when, loc);
}
template <class R, class Timeout = std::optional<std::chrono::nanoseconds>>
  requires detail::OptionalTimeout<Timeout>
DoneAndNotDone<R> wait(std::initializer_list<Future<R>> fs, Timeout timeout = {},
                       ReturnWhen return_when = ReturnWhen::ALL_COMPLETED,
                       detail::SourceLoc loc = detail::SourceLoc::current()) {
  return detail::wait_unique(detail::unique_futures<R>(fs), detail::deadline_of(timeout),
                             return_when, loc);
}
/// The form API.md lists, for calls that name R (wait<int>(fs)).
template <class R>
DoneAndNotDone<R> wait(const std::vector<Future<R>>& fs,
                       std::optional<std::chrono::nanoseconds> timeout = {},
                       ReturnWhen return_when = ReturnWhen::ALL_COMPLETED,
                       detail::SourceLoc loc = detail::SourceLoc::current()) {
  return detail::wait_unique(detail::unique_futures<R>(fs), detail::deadline_of(timeout),
                             return_when, loc);
}

/// Yields the futures of fs as they complete (those already done first, in input
/// order); duplicates once. The timeout counts from this call; when it runs out before
/// all are yielded, the iteration throws TimeoutError.  (Python: futures.as_completed)
/// fs and timeout: as for wait(); the range is read once, during this call.
///
///   std::unordered_map<weft::Future<std::string>, std::string> pages;
///   for (const auto& url : urls) pages.emplace(pool.submit(fetch, url), url);
///   for (auto& f : weft::as_completed(std::views::keys(pages), 30s))
///     std::cout << pages.at(f) << ": " << f.result().size() << " bytes\n";
template <class Fs, class Timeout = std::optional<std::chrono::nanoseconds>>
  requires detail::FutureRange<Fs> && detail::OptionalTimeout<Timeout>
detail::AsCompleted<detail::future_range_result_t<Fs>> as_completed(
    Fs&& fs, Timeout timeout = {}, detail::SourceLoc loc = detail::SourceLoc::current()) {
  using R = detail::future_range_result_t<Fs>;
  return detail::AsCompleted<R>(std::forward<Fs>(fs), detail::deadline_of(timeout), loc);
}
template <class R, class Timeout = std::optional<std::chrono::nanoseconds>>
  requires detail::OptionalTimeout<Timeout>
detail::AsCompleted<R> as_completed(std::initializer_list<Future<R>> fs, Timeout timeout = {},
                                    detail::SourceLoc loc = detail::SourceLoc::current()) {
  return detail::AsCompleted<R>(fs, detail::deadline_of(timeout), loc);
}
/// The form API.md lists, for calls that name R (as_completed<int>(fs)).
template <class R>
detail::AsCompleted<R> as_completed(const std::vector<Future<R>>& fs,
                                    std::optional<std::chrono::nanoseconds> timeout = {},
                                    detail::SourceLoc loc = detail::SourceLoc::current()) {
  return detail::AsCompleted<R>(fs, detail::deadline_of(timeout), loc);
}

}  // namespace weft

/// Future<R> hashes by identity (its shared state), consistent with ==.
template <class R>
struct std::hash<weft::Future<R>> {
  std::size_t operator()(const weft::Future<R>& f) const noexcept {
    return std::hash<const void*>{}(weft::detail::future_state(f));
  }
};
