// SPDX-License-Identifier: Apache-2.0
// weft/detail/thread_pool_executor.hpp: ThreadPoolExecutor, the pool of weft threads
// that runs submitted calls. Part of <weft/futures.hpp>; include that.
//
// Contract: the class is a handle to an out-of-line core (src/futures/thread_pool.cpp,
// reached through the detail::pool_* functions declared here); the templates only pack
// the call and its arguments into one TaskState and hand it over. The pool's own
// guarantees are on the class below.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <stop_token>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "weft/detail/deadline.hpp"
#include "weft/detail/future_handle.hpp"
#include "weft/detail/future_state.hpp"
#include "weft/detail/map_results.hpp"
#include "weft/errors.hpp"

namespace weft {

namespace detail {
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
///   Tasks are taken in submission order (FIFO queue); each runs at most once. When the
///   queue is long, a worker takes up to 8 consecutive tasks at once and starts them in
///   order (with one worker, tasks start in submission order); a taken task stays
///   pending (cancel() works) and an idle worker takes it over from a busy one.
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
/// Cost:     submit is one allocation (state and callable together; the queue adds 8
///           bytes per queued task, in 4 KiB blocks that every pool reuses), one short
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

}  // namespace weft
