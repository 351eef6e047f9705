// weft/process.hpp: ProcessPoolExecutor, a pool of worker processes that survives crashes.
//                                   (Python: concurrent.futures.ProcessPoolExecutor)
//
// Design: docs/design.md (L4 executors). Wire types: weft/detail/wire.hpp. The pool's
// out-of-line core (spawning, the dispatcher thread, the worker loop) is in src/process/.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
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
/// State: running -> shut down. Broken when a worker's initializer throws: every queued
/// and later task fails with BrokenProcessPool.
/// Guarantees
///   Each task runs at most once, in one worker. A task that throws gives RemoteError
///   whose what() is "Type: message" of the original exception. A worker that dies
///   (abort, a signal, a crash, exit) fails only the task it was running, with
///   BrokenProcessPool; it is replaced when work needs it and the pool keeps serving.
///   A worker exits after max_tasks_per_child tasks (if set) and is replaced.
/// Fairness: FIFO dispatch, one task per worker at a time.
/// Blocking: submit() never blocks on workers; shutdown(true) waits for every queued
///   task and for the workers to exit.
/// Cost:     a round trip is two socket messages plus encoding; workers start lazily
///           (one per submit that finds no idle worker, up to max_workers), each an
///           exec of the program.
/// Lifetime: the destructor is shutdown(true). Futures may outlive the pool.
/// Invalid:  non-wire argument or result types do not compile. submit after shutdown
///           throws RuntimeError. Calling exit() or crashing in a task only loses that
///           task. Linux only (/proc/self/exe).
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
  ~ProcessPoolExecutor() { detail::destroy_process_pool(core_); }
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;

  /// Schedules fn(args...) in a worker process. Arguments are converted to fn's
  /// parameter types and encoded now. Throws: RuntimeError after shutdown;
  /// BrokenProcessPool when broken.
  template <class R, class... P, class... Args>
  Future<R> submit(R (*fn)(P...), Args&&... args) {
    static_assert(sizeof...(P) == sizeof...(Args),
                  "weft::ProcessPoolExecutor::submit: wrong number of arguments for fn");
    static_assert((detail::wire_check<std::decay_t<P>>() && ... && true));
    if constexpr (!std::is_void_v<R>) static_assert(detail::wire_check<std::decay_t<R>>());
    WireWriter w;
    (w.write(static_cast<std::decay_t<P>>(std::forward<Args>(args))), ...);
    auto* s = new detail::FutureState<R>();
    s->add_ref();  // one for the pool, one for the Future
    try {
      detail::process_submit(core_, s, reinterpret_cast<std::uintptr_t>(&detail::invoke_remote<R, P...>),
                             reinterpret_cast<std::uintptr_t>(fn), std::move(w.buffer()),
                             &detail::deliver_result<R>);
    } catch (...) {
      s->release();
      s->release();
      throw;
    }
    return detail::adopt_future(s);
  }

  /// Submits fn(x) for every x now; a range of results in input order (see
  /// ThreadPoolExecutor::map).
  template <class R, class P, class Range>
  auto map(R (*fn)(P), Range&& inputs) {
    return detail::MapResults<R>(submit_all(fn, inputs), detail::kForever);
  }
  template <class R, class P, class Range, class D>
  auto map(R (*fn)(P), Range&& inputs, D timeout) {
    const detail::Deadline deadline = detail::deadline_after(timeout);
    return detail::MapResults<R>(submit_all(fn, inputs), deadline);
  }

  /// Stops accepting work; cancel_futures cancels the tasks not sent to a worker yet;
  /// wait blocks until the rest are done and the workers have exited.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    detail::process_shutdown(core_, wait, cancel_futures);
  }

 private:
  template <class R, class P, class Range>
  std::vector<Future<R>> submit_all(R (*fn)(P), Range& inputs) {
    std::vector<Future<R>> fs;
    try {
      for (auto&& x : inputs) fs.push_back(submit(fn, x));
    } catch (...) {
      for (auto& f : fs) f.cancel();
      throw;
    }
    return fs;
  }

  detail::ProcessPoolCore* core_;
};

}  // namespace weft
