// SPDX-License-Identifier: Apache-2.0
// weft/process.hpp: ProcessPoolExecutor, a pool of worker processes that survives crashes.
//                                   (Python: concurrent.futures.ProcessPoolExecutor)
//
// Design: docs/design.md (L4 executors). Wire types: weft/detail/wire.hpp. The pool's
// out-of-line core (spawning, the dispatcher thread, the worker loop) is in src/process/.
#pragma once

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/detail/wire.hpp"
#include "weft/futures.hpp"

namespace weft {

/// Options beyond max_workers (Python's initializer and max_tasks_per_child).
struct ProcessPoolOptions {
  void (*initializer)() = nullptr;    // runs once in each worker before its first task
  std::size_t max_tasks_per_child = 0;  // 0: workers live as long as the pool
};

namespace detail {

// Where a function lives, in a form that means the same in a worker process: the
// loaded object's path ("" for the main executable) and the offset from its load base.
struct CodeRef {
  std::string module;
  std::uint64_t offset = 0;
};
CodeRef code_ref(std::uintptr_t address);

// Runs in the worker: decodes the arguments, calls fn, encodes the result.
using RemoteInvoker = void (*)(std::uintptr_t fn, WireReader& in, WireWriter& out);
// Runs in the parent's dispatcher: decodes a result into the future and finishes it.
using ResultDeliverer = void (*)(FutureStateBase* s, WireReader& in);

template <class R, class... P>
void invoke_remote(std::uintptr_t fn_address, WireReader& in, WireWriter& out) {
  auto fn = reinterpret_cast<R (*)(P...)>(fn_address);
  // Braced initialisation decodes the arguments left to right.
  std::tuple<std::decay_t<P>...> args{in.read<std::decay_t<P>>()...};
  if constexpr (std::is_void_v<R>) {
    std::apply([&](auto&... a) { fn(std::move(a)...); }, args);
  } else {
    out.write<std::decay_t<R>>(std::apply([&](auto&... a) { return fn(std::move(a)...); }, args));
  }
}

// Pool's chunks: one task runs fn over a vector of inputs (or of argument tuples).
template <class R, class P>
void invoke_chunk(std::uintptr_t fn_address, WireReader& in, WireWriter& out) {
  auto fn = reinterpret_cast<R (*)(P)>(fn_address);
  auto xs = in.read<std::vector<std::decay_t<P>>>();
  std::vector<std::decay_t<R>> ys;
  ys.reserve(xs.size());
  for (auto& x : xs) ys.push_back(fn(std::move(x)));
  out.write(ys);
}
template <class R, class... P>
void invoke_star_chunk(std::uintptr_t fn_address, WireReader& in, WireWriter& out) {
  auto fn = reinterpret_cast<R (*)(P...)>(fn_address);
  auto xs = in.read<std::vector<std::tuple<std::decay_t<P>...>>>();
  std::vector<std::decay_t<R>> ys;
  ys.reserve(xs.size());
  for (auto& x : xs) ys.push_back(std::apply([&](auto&... a) { return fn(std::move(a)...); }, x));
  out.write(ys);
}

template <class R>
void deliver_result(FutureStateBase* s, WireReader& in) {
  auto* st = static_cast<FutureState<R>*>(s);
  try {
    if constexpr (!std::is_void_v<R>) st->set_value(in.read<std::decay_t<R>>());
  } catch (...) {
    st->finish_with(std::current_exception());
    return;
  }
  st->finish();
}

// What a process pool accepts as a task: a plain function, or a captureless lambda
// (converted to its function pointer, as +[] does).
template <class F>
concept function_pointer = std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>;
template <class F>
concept plain_function = std::is_function_v<std::remove_cvref_t<F>> ||
                         function_pointer<std::remove_cvref_t<F>>;
template <class F>
concept captureless_lambda = std::is_class_v<std::remove_cvref_t<F>> &&
                             requires(std::remove_cvref_t<F>& f) {
                               { +f } -> function_pointer;
                             };
// What the callers of a rejected callable get, so that the static_assert below is the
// only error.
struct NotAProcessCallable {};
template <class F>
constexpr void check_process_callable() {
  static_assert(captureless_lambda<F>,
                "weft: a process pool runs a plain function or a captureless lambda in another "
                "process; captured state, a generic lambda or another callable object cannot "
                "cross the process boundary. Pass the state as arguments; convert a generic "
                "lambda explicitly, e.g. static_cast<int (*)(int)>(lambda).");
}
// What a process pool's overloads for lambdas return: call(+fn) for a captureless
// lambda fn; for anything else the static_assert above is the only error.
template <class F, class Call>
auto with_function_pointer(F& fn, Call&& call) {
  check_process_callable<F>();
  if constexpr (captureless_lambda<F>) return call(+fn);
  else return NotAProcessCallable{};
}

class ProcessPoolCore;
ProcessPoolCore* make_process_pool(std::size_t max_workers, ProcessPoolOptions options);
void destroy_process_pool(ProcessPoolCore* core) noexcept;
// Queues one call (takes over one reference of s). Throws RuntimeError after shutdown,
// BrokenProcessPool when the pool is broken.
void process_submit(ProcessPoolCore* core, FutureStateBase* s, std::uintptr_t invoker,
                    std::uintptr_t fn, std::string args, ResultDeliverer deliver);
void process_shutdown(ProcessPoolCore* core, bool wait, bool cancel_futures);

}  // namespace detail

/// ProcessPoolExecutor: runs plain functions in worker processes.
///                                   (Python: concurrent.futures.ProcessPoolExecutor)
///
/// How workers start: posix_spawn() of /proc/self/exe (the running program itself)
/// with WEFT_PROCESS_WORKER set in its environment. weft recognises the marker in a
/// static initialiser of its process-pool object file, before main() runs, and turns
/// the new process into a worker that serves tasks over a socket until its parent goes
/// away. Why this is safe while the parent has other threads: the child never runs
/// code from the parent's address space after the spawn (glibc's posix_spawn is a
/// vfork-style clone followed at once by execve), so no lock held by another parent
/// thread (malloc, stdio, a weft::Lock) can be inherited in a locked state, which is
/// the classic fork-in-a-threaded-program deadlock. Functions travel as (loaded object,
/// offset from its load base): both processes run the same executable with the same
/// shared objects, so the pair names the same function despite address randomisation
/// (a function in a library dlopen()ed by the parent is dlopen()ed by the worker too).
/// Consequences: tasks run after the static initialisers that precede weft's in the
/// program (in a normal static link, all of the program's) but never after main() has
/// set anything up, as with Python's spawn start method; set-up belongs in the
/// initializer. Tasks must be plain functions: no captures, no member functions.
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
///   when it needs one (an exec of the program). shutdown(true) waits for every queued
///   task and for the workers to exit.
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

  /// Schedules fn(args...) in a worker process. Arguments are converted to fn's
  /// parameter types and encoded now. Throws: RuntimeError after shutdown;
  /// BrokenProcessPool when broken.
  template <class R, class... P, class... Args>
  Future<R> submit(R (*fn)(P...), Args&&... args) {
    static_assert((detail::wire_check<std::decay_t<P>>() && ... && true));
    if constexpr (!std::is_void_v<R>) static_assert(detail::wire_check<std::decay_t<R>>());
    return submit_encoded<R>(reinterpret_cast<std::uintptr_t>(&detail::invoke_remote<R, P...>),
                             reinterpret_cast<std::uintptr_t>(fn),
                             detail::encode_arguments<P...>(std::forward<Args>(args)...));
  }
  /// A captureless lambda runs as its function pointer; anything else fails to compile
  /// with a message that says why.
  template <class F, class... Args>
    requires(!detail::plain_function<F>)
  auto submit(F&& fn, Args&&... args) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return submit(f, std::forward<Args>(args)...); });
  }

  /// Submits fn(x) for every x now; a range of results in input order (see
  /// ThreadPoolExecutor::map).
  template <class R, class P, class Range>
  auto map(R (*fn)(P), Range&& inputs) {
    return detail::map_results<R>(*this, fn, inputs, detail::kForever);
  }
  template <class R, class P, class Range, class D>
  auto map(R (*fn)(P), Range&& inputs, D timeout) {
    const detail::Deadline deadline = detail::deadline_after(timeout);
    return detail::map_results<R>(*this, fn, inputs, deadline);
  }
  template <class F, class Range, class... D>
    requires(!detail::plain_function<F> && sizeof...(D) <= 1)
  auto map(F&& fn, Range&& inputs, D... timeout) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return map(f, std::forward<Range>(inputs), timeout...); });
  }

  /// Stops accepting work; cancel_futures cancels the tasks not sent to a worker yet;
  /// wait blocks until the rest are done and the workers have exited.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    detail::process_shutdown(core_, wait, cancel_futures);
  }

 private:
  friend class Pool;

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

namespace detail {
// The range imap() / imap_unordered() return: chunk results flattened, in input order
// (Ordered) or in completion order of the chunks.
template <class R, bool Ordered>
class ChunkedResults : public PullRange<ChunkedResults<R, Ordered>, R> {
 public:
  explicit ChunkedResults(std::vector<Future<std::vector<R>>> fs) : fs_(std::move(fs)) {
    if constexpr (!Ordered) done_ = std::make_unique<AsCompleted<std::vector<R>>>(fs_, kForever, SourceLoc{});
  }
  ChunkedResults(ChunkedResults&&) noexcept = default;
  ~ChunkedResults() {
    done_.reset();
    for (auto& f : fs_) f.cancel();  // chunks not consumed yet
  }

  // begin() blocks for the first chunk. Throws: RemoteError, BrokenProcessPool, ...
  using iterator = PullIterator<ChunkedResults, R>;

 private:
  friend iterator;
  friend PullRange<ChunkedResults, R>;
  bool exhausted() const noexcept { return pos_ >= chunk_.size(); }
  R& current_item() noexcept { return chunk_[pos_]; }
  void advance() {
    if (++pos_ < chunk_.size()) return;
    load_next_chunk();
  }
  void load_next_chunk() {
    chunk_.clear();
    pos_ = 0;
    while (chunk_.empty()) {
      if constexpr (Ordered) {
        if (next_ >= fs_.size()) return;
        chunk_ = fs_[next_++].result();
      } else {
        if (!it_started_) {
          it_ = done_->begin();
          it_started_ = true;
        } else {
          ++it_;
        }
        if (it_ == done_->end()) return;
        chunk_ = it_->result();
      }
    }
  }

  std::vector<Future<std::vector<R>>> fs_;
  std::unique_ptr<AsCompleted<std::vector<R>>> done_;
  typename AsCompleted<std::vector<R>>::iterator it_{};
  bool it_started_ = false;
  std::size_t next_ = 0;
  std::vector<R> chunk_;
  std::size_t pos_ = 0;
};
}  // namespace detail

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

  /// fn(x) for every x, in order. chunksize 0: Python's default (about 4 chunks per
  /// process). Throws: the first failing chunk's RemoteError / BrokenProcessPool.
  template <class R, class P, class Range>
  std::vector<R> map(R (*fn)(P), Range&& inputs, std::size_t chunksize = 0) {
    return flatten(submit_chunks(fn, inputs, chunksize));
  }
  /// fn(a, b, ...) for every tuple (or pair) of arguments, in order.
  template <class R, class... P, class Range>
  std::vector<R> starmap(R (*fn)(P...), Range&& inputs, std::size_t chunksize = 0) {
    return flatten(submit_star_chunks(fn, inputs, chunksize));
  }
  /// Lazy map: a range yielding results in input order as their chunks complete.
  template <class R, class P, class Range>
  auto imap(R (*fn)(P), Range&& inputs, std::size_t chunksize = 1) {
    return detail::ChunkedResults<R, true>(submit_chunks(fn, inputs, chunksize == 0 ? 1 : chunksize));
  }
  /// Lazy map in completion order (of chunks; within a chunk, input order).
  template <class R, class P, class Range>
  auto imap_unordered(R (*fn)(P), Range&& inputs, std::size_t chunksize = 1) {
    return detail::ChunkedResults<R, false>(submit_chunks(fn, inputs, chunksize == 0 ? 1 : chunksize));
  }
  template <class R, class... P, class... Args>
  Future<R> apply_async(R (*fn)(P...), Args&&... args) {
    return ex_.submit(fn, std::forward<Args>(args)...);
  }
  template <class R, class... P, class... Args>
  R apply(R (*fn)(P...), Args&&... args) {
    return ex_.submit(fn, std::forward<Args>(args)...).result();
  }
  /// Captureless lambdas, for each of the calls above (anything else fails to compile
  /// with a message that says why).
  template <class F, class Range>
    requires(!detail::plain_function<F>)
  auto map(F&& fn, Range&& inputs, std::size_t chunksize = 0) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return map(f, inputs, chunksize); });
  }
  template <class F, class Range>
    requires(!detail::plain_function<F>)
  auto starmap(F&& fn, Range&& inputs, std::size_t chunksize = 0) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return starmap(f, inputs, chunksize); });
  }
  template <class F, class Range>
    requires(!detail::plain_function<F>)
  auto imap(F&& fn, Range&& inputs, std::size_t chunksize = 1) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return imap(f, inputs, chunksize); });
  }
  template <class F, class Range>
    requires(!detail::plain_function<F>)
  auto imap_unordered(F&& fn, Range&& inputs, std::size_t chunksize = 1) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return imap_unordered(f, inputs, chunksize); });
  }
  template <class F, class... Args>
    requires(!detail::plain_function<F>)
  auto apply_async(F&& fn, Args&&... args) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return apply_async(f, std::forward<Args>(args)...); });
  }
  template <class F, class... Args>
    requires(!detail::plain_function<F>)
  auto apply(F&& fn, Args&&... args) {
    return detail::with_function_pointer<F>(
        fn, [&](auto f) { return apply(f, std::forward<Args>(args)...); });
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
