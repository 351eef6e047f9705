// SPDX-License-Identifier: Apache-2.0
// weft/process.hpp: ProcessPoolExecutor, a pool of worker processes that survives crashes.
//                                   (Python: concurrent.futures.ProcessPoolExecutor)
//
// Also Pool (multiprocessing.Pool) and ProcessPoolOptions. Design: docs/design.md (L4
// executors). Wire types: weft/detail/wire.hpp; how a task crosses to a worker:
// weft/detail/process_call.hpp. The pool's out-of-line core (the fork server, the
// dispatcher thread, the worker loop) is in src/process/.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/detail/chunked_results.hpp"
#include "weft/detail/process_call.hpp"
#include "weft/detail/wire.hpp"
#include "weft/futures.hpp"

namespace weft {

/// ProcessPoolExecutor: runs plain functions in worker processes.
///                                   (Python: concurrent.futures.ProcessPoolExecutor)
///
/// How workers start (Python's forkserver start method): the first worker a process
/// needs starts its fork server, a posix_spawn() of /proc/self/exe (the running program
/// itself) with WEFT_PROCESS_WORKER set in its environment. weft recognises the marker in
/// a static initialiser of its process-pool object file, before main() runs, and turns
/// that process into a single-threaded server that only waits for requests. Every worker
/// of every pool of the process is a clone of that server (the program is its parent, so
/// the pool reaps it and sees how it died) serving tasks over a socket until its pool
/// lets it go: a clone of a small idle process costs a fraction of a millisecond, where
/// an exec costs the program's whole dynamic linking and static initialisation again.
/// The server lives until the program exits; one that died is replaced, and so is one
/// started before the program changed its effective user or group. When no server can
/// run, a worker is started as the server is (an exec). Why this is safe while the
/// parent has other threads: no process ever runs code from the parent's address space
/// after the spawn (glibc's posix_spawn is a vfork-style clone followed at once by
/// execve), and the server that is cloned has a single thread, so no lock held by
/// another parent thread (malloc, stdio, a weft::Lock) can be inherited in a locked
/// state, which is the classic fork-in-a-threaded-program deadlock. Functions travel as
/// (loaded object, offset from its load base): both processes run the same executable
/// with the same shared objects, so the pair names the same function despite address
/// randomisation (a function in a library dlopen()ed by the parent is dlopen()ed by the
/// worker too). Workers get the environment, working directory, resource limits and
/// standard streams the program had when its fork server started (its first worker
/// start), as with Python's forkserver.
/// Consequences: tasks run after the static initialisers that precede weft's in the
/// program (in a normal static link, all of the program's) but never after main() has
/// set anything up, as with Python's spawn and forkserver start methods; set-up belongs
/// in the initializer. A fork server with more than one thread (a static initialiser of
/// the program started a thread) is never cloned: the pool execs every worker instead. Tasks must be plain functions: no captures, no member functions.
///
/// Descriptors: every descriptor the pool opens is close-on-exec, in the parent and in
/// the worker (its socket), and a worker inherits no descriptor of the program but
/// stdin, stdout and stderr: a program a task starts holds none of them, so a crash is
/// seen at once and shutdown never waits for such a program.
/// fork(): a pool belongs to the process that created it. In a forked child the
/// inherited pool is inert: submit (and map, and Pool's calls) throws BrokenProcessPool,
/// shutdown and the destructor do nothing there (the child's copy is not freed). The
/// parent's workers and results are untouched. Futures of tasks submitted before the
/// fork never complete in the child (their tasks are the parent's). The child's copies
/// of the pool's descriptors are close-on-exec; a child that does not exec holds them
/// until it exits. A child creates its own pool to use one.
/// Start failures: when a worker cannot be started (no descriptors, no processes:
/// EMFILE, EAGAIN) the task waits for a live worker if there is one, and the start is
/// tried again later; with no live worker, submit throws RuntimeError and queues
/// nothing. Tasks already queued when the last worker died are failed with
/// BrokenProcessPool only after the restart has failed for about 2.5 s. The pool is never
/// broken by this: later submits start workers again.
///
/// State: running -> shut down. Broken when a worker's initializer throws: every queued
/// and later task fails with BrokenProcessPool.
/// Guarantees
///   Each task runs at most once, in one worker. A task that throws gives RemoteError
///   whose what() is "Type: message" of the original exception. A worker that dies
///   (abort, a signal, a crash, exit) fails only the task it was running, with
///   BrokenProcessPool; it is replaced when work needs it and the pool keeps serving.
///   A worker exits after max_tasks_per_child tasks (if set) and is replaced.
/// Fairness: FIFO dispatch, one task per worker at a time.
/// Blocking: submit() never blocks on workers (a stopped or slow worker holds up only
///   its own task: tasks are written to sockets without blocking, the rest by the
///   dispatcher thread as the worker reads); submit() starts a worker process itself
///   when it needs one (a request to the fork server; the first one of the process
///   also starts the server). shutdown(true) waits for every queued
///   task and for the workers to exit. Every wait (a future's result, map iteration,
///   shutdown(true)) honours the caller's CancelScope, Timeout, Thread::request_stop and
///   Ctrl-C (weft/cancel.hpp); the destructor's wait does not.
/// Cost:     a round trip is two socket messages plus encoding; workers start lazily
///           (one per submit that finds no idle worker, up to max_workers).
/// Lifetime: the destructor is shutdown(true). Futures may outlive the pool. Destroyed
///           in one of its own done callbacks (on the pool's thread, which cannot wait
///           for itself), the pool shuts down without waiting: queued tasks still run,
///           and it frees itself once they are done and its workers have exited.
/// Invalid:  non-wire argument or result types, and callables other than plain functions
///           and captureless lambdas, do not compile. A negative max_workers throws
///           ValueError. submit after shutdown throws RuntimeError; no thread for the
///           pool: RuntimeError("can't start new thread"). Calling exit() or crashing in
///           a task only loses that task. Linux only (/proc/self/exe).
///
///   int heavy(int n);                               // a plain function
///   weft::ProcessPoolExecutor pool(4);
///   weft::Future<int> f = pool.submit(heavy, 10'000'000);
///   int v = f.result();
class ProcessPoolExecutor {
 public:
  /// max_workers 0: one per core (std::thread::hardware_concurrency()).
  explicit ProcessPoolExecutor(std::size_t max_workers = 0)
      : ProcessPoolExecutor(max_workers, ProcessPoolOptions{}) {}
  ProcessPoolExecutor(std::size_t max_workers, ProcessPoolOptions options)
      : core_(detail::make_process_pool(max_workers, options)) {}
  /// A signed count (an int literal): negative throws ValueError.
  template <std::signed_integral I>
  explicit ProcessPoolExecutor(I max_workers)
      : ProcessPoolExecutor(detail::non_negative_count(max_workers, "max_workers")) {}
  template <std::signed_integral I>
  ProcessPoolExecutor(I max_workers, ProcessPoolOptions options)
      : ProcessPoolExecutor(detail::non_negative_count(max_workers, "max_workers"), options) {}
  ~ProcessPoolExecutor() { detail::destroy_process_pool(core_); }
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;

  /// Schedules fn(args...) in a worker process: fn is a plain function or a captureless
  /// lambda (run as its function pointer); anything else fails to compile with a message
  /// that says why. Arguments are converted to fn's parameter types and encoded now.
  /// Throws: RuntimeError after shutdown; BrokenProcessPool when broken.
  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return submit_function(f, std::forward<Args>(args)...); });
  }

  /// Submits fn(x) for every x now; a range of results in input order (see
  /// ThreadPoolExecutor::map). With a timeout, iteration throws TimeoutError once it
  /// has passed (measured from this call).
  template <class F, class Range, class... D>
    requires(sizeof...(D) <= 1)
  auto map(F&& fn, Range&& inputs, D... timeout) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return map_function(f, inputs, timeout...); });
  }

  /// Stops accepting work; cancel_futures cancels the tasks not sent to a worker yet;
  /// wait blocks until the rest are done and the workers have exited. A stopped wait
  /// (CancelledError, TimeoutError, KeyboardInterrupt) leaves the pool shut down and
  /// finishing in the background; the destructor waits for it.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    detail::process_shutdown(core_, wait, cancel_futures);
  }

 private:
  friend class Pool;

  template <class R, class... P, class... Args>
  Future<R> submit_function(R (*fn)(P...), Args&&... args) {
    static_assert((detail::wire_check<std::decay_t<P>>() && ... && true));
    if constexpr (!std::is_void_v<R>) static_assert(detail::wire_check<std::decay_t<R>>());
    return submit_encoded<R>(reinterpret_cast<std::uintptr_t>(&detail::invoke_remote<R, P...>),
                             reinterpret_cast<std::uintptr_t>(fn),
                             detail::encode_arguments<P...>(std::forward<Args>(args)...));
  }

  template <class R, class P, class Range, class... D>
  auto map_function(R (*fn)(P), Range& inputs, D... timeout) {
    detail::Deadline deadline = detail::kForever;
    if constexpr (sizeof...(D) == 1) deadline = detail::deadline_after(timeout...);
    return detail::map_results<R>(*this, fn, inputs, deadline);
  }

  // Queues already encoded arguments for `invoker` (which decodes them and runs fn).
  template <class R>
  Future<R> submit_encoded(std::uintptr_t invoker, std::uintptr_t fn, std::string args) {
    auto* s = new detail::FutureState<R>();
    s->add_ref();  // one for the pool, one for the Future
    try {
      detail::process_submit(core_, s, invoker, fn, std::move(args), &detail::deliver_result<R>);
    } catch (...) {
      s->release();
      s->release();
      throw;
    }
    return detail::adopt_future(s);
  }

  detail::ProcessPoolCore* core_;
};


/// Pool: multiprocessing.Pool's usual calls on top of ProcessPoolExecutor.
///                                                      (Python: multiprocessing.Pool)
///
/// A thin facade: map / starmap / imap / imap_unordered cut the inputs into chunks of
/// `chunksize` and send each chunk as one task (one round trip per chunk); apply and
/// apply_async are submit. Everything else (start-up, crashes, wire types, blocking)
/// is ProcessPoolExecutor's. Differences from Python: results of apply_async are
/// Futures (get() is result()); the destructor waits for queued work (Python's `with`
/// terminates); terminate() cancels queued tasks but lets running ones finish.
/// Lifetime: ranges from imap / imap_unordered must not outlive the Pool.
/// Invalid:  a negative processes or maxtasksperchild throws ValueError.
///
///   weft::Pool pool(4);
///   std::vector<int> squares = pool.map(square, std::vector{1, 2, 3, 4});
class Pool {
 public:
  explicit Pool(std::size_t processes = 0, void (*initializer)() = nullptr,
                std::size_t maxtasksperchild = 0)
      : ex_(processes, ProcessPoolOptions{initializer, maxtasksperchild}),
        processes_(processes != 0 ? processes : std::max(1u, std::thread::hardware_concurrency())) {}
  /// Signed counts (int literals): negative throws ValueError.
  template <std::integral I, std::integral J = std::size_t>
    requires(std::signed_integral<I> || std::signed_integral<J>)
  explicit Pool(I processes, void (*initializer)() = nullptr, J maxtasksperchild = 0)
      : Pool(count(processes, "processes"), initializer, count(maxtasksperchild, "maxtasksperchild")) {}

  /// Each call takes a plain function or a captureless lambda (run as its function
  /// pointer); anything else fails to compile with a message that says why.
  ///
  /// fn(x) for every x, in order. chunksize 0: Python's default (about 4 chunks per
  /// process). Throws: the first failing chunk's RemoteError / BrokenProcessPool.
  template <class F, class Range>
  auto map(F&& fn, Range&& inputs, std::size_t chunksize = 0) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return flatten(submit_chunks(f, inputs, chunksize)); });
  }
  /// fn(a, b, ...) for every tuple (or pair) of arguments, in order.
  template <class F, class Range>
  auto starmap(F&& fn, Range&& inputs, std::size_t chunksize = 0) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return flatten(submit_star_chunks(f, inputs, chunksize)); });
  }
  /// Lazy map: a range yielding results in input order as their chunks complete.
  template <class F, class Range>
  auto imap(F&& fn, Range&& inputs, std::size_t chunksize = 1) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return chunked_range<true>(submit_chunks(f, inputs, chunksize == 0 ? 1 : chunksize)); });
  }
  /// Lazy map in completion order (of chunks; within a chunk, input order).
  template <class F, class Range>
  auto imap_unordered(F&& fn, Range&& inputs, std::size_t chunksize = 1) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return chunked_range<false>(submit_chunks(f, inputs, chunksize == 0 ? 1 : chunksize)); });
  }
  /// submit(fn, args...): a Future.
  template <class F, class... Args>
  auto apply_async(F&& fn, Args&&... args) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return ex_.submit(f, std::forward<Args>(args)...); });
  }
  /// submit(fn, args...).result().
  template <class F, class... Args>
  auto apply(F&& fn, Args&&... args) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return ex_.submit(f, std::forward<Args>(args)...).result(); });
  }

  /// No more tasks (later calls throw RuntimeError); queued ones still run.
  void close() { ex_.shutdown(false); }
  /// Cancels queued tasks; running ones finish.
  void terminate() { ex_.shutdown(false, true); }
  /// Waits for the workers to finish and exit (call close() or terminate() first).
  void join() { ex_.shutdown(true); }

 private:
  template <std::integral I>
  static std::size_t count(I n, const char* name) {
    if constexpr (std::is_signed_v<I>) {
      return detail::non_negative_count(n, name);
    } else {
      return static_cast<std::size_t>(n);
    }
  }

  template <class Range>
  std::size_t chunk_size(const Range& inputs, std::size_t chunksize) const {
    if (chunksize != 0) return chunksize;
    std::size_t n = 0;
    for (auto it = std::begin(inputs); it != std::end(inputs); ++it) ++n;
    const std::size_t parts = processes_ * 4;
    return std::max<std::size_t>(1, n / parts + (n % parts != 0 ? 1 : 0));
  }

  template <bool Ordered, class R>
  static detail::ChunkedResults<R, Ordered> chunked_range(std::vector<Future<std::vector<R>>> fs) {
    return detail::ChunkedResults<R, Ordered>(std::move(fs));
  }

  // The results of the chunks, in chunk order. Throws the first failing chunk's error.
  template <class R>
  static std::vector<R> flatten(std::vector<Future<std::vector<R>>> fs) {
    std::vector<R> out;
    for (auto& f : fs)
      for (auto& y : f.result()) out.push_back(std::move(y));
    return out;
  }

  // One task per chunk of `size` inputs, each input converted to X: the worker runs
  // invoker(fn, chunk). If a submit throws, the chunks already submitted are cancelled.
  template <class R, class X, class Range>
  std::vector<Future<std::vector<R>>> submit_in_chunks(std::uintptr_t invoker, std::uintptr_t fn,
                                                       Range& inputs, std::size_t size) {
    std::vector<Future<std::vector<R>>> fs;
    std::vector<X> chunk;
    auto flush = [&] {
      WireWriter w;
      w.write(chunk);
      fs.push_back(ex_.submit_encoded<std::vector<R>>(invoker, fn, std::move(w.buffer())));
      chunk.clear();
    };
    try {
      for (auto&& x : inputs) {
        chunk.push_back(static_cast<X>(x));
        if (chunk.size() == size) flush();
      }
      if (!chunk.empty()) flush();
    } catch (...) {
      for (auto& f : fs) f.cancel();
      throw;
    }
    return fs;
  }

  template <class R, class P, class Range>
  std::vector<Future<std::vector<R>>> submit_chunks(R (*fn)(P), Range& inputs,
                                                    std::size_t chunksize) {
    static_assert(!std::is_void_v<R>, "weft::Pool::map needs a function that returns a value");
    using X = std::decay_t<P>;
    static_assert(detail::wire_check<X>() && detail::wire_check<std::decay_t<R>>());
    return submit_in_chunks<R, X>(reinterpret_cast<std::uintptr_t>(&detail::invoke_chunk<R, P>),
                                  reinterpret_cast<std::uintptr_t>(fn), inputs,
                                  chunk_size(inputs, chunksize));
  }

  template <class R, class... P, class Range>
  std::vector<Future<std::vector<R>>> submit_star_chunks(R (*fn)(P...), Range& inputs,
                                                         std::size_t chunksize) {
    static_assert(!std::is_void_v<R>, "weft::Pool::starmap needs a function that returns a value");
    using X = std::tuple<std::decay_t<P>...>;
    static_assert(detail::wire_check<X>() && detail::wire_check<std::decay_t<R>>());
    return submit_in_chunks<R, X>(
        reinterpret_cast<std::uintptr_t>(&detail::invoke_star_chunk<R, P...>),
        reinterpret_cast<std::uintptr_t>(fn), inputs, chunk_size(inputs, chunksize));
  }

  ProcessPoolExecutor ex_;
  std::size_t processes_;
};

}  // namespace weft
