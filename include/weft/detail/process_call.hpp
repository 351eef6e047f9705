// SPDX-License-Identifier: Apache-2.0
// weft/detail/process_call.hpp: how a process pool's task crosses to a worker: where a
// function lives (CodeRef), the invokers that decode arguments and encode results in the
// worker, the delivery of a result to its future in the parent, which callables a pool
// accepts, and the entry points of the out-of-line core (src/process/). Part of
// <weft/process.hpp>; not included on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
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

// What a process pool accepts as a task: a plain function (or a pointer to one), or a
// captureless lambda (converted to its function pointer, as +[] does).
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
  static_assert(plain_function<F> || captureless_lambda<F>,
                "weft: a process pool runs a plain function or a captureless lambda in another "
                "process; captured state, a generic lambda or another callable object cannot "
                "cross the process boundary. Pass the state as arguments; convert a generic "
                "lambda explicitly, e.g. static_cast<int (*)(int)>(lambda).");
}
// What every call of a process pool that takes a callable returns: call(p) with p the
// function pointer of fn (a plain function or a captureless lambda); for anything else
// the static_assert above is the only error.
template <class F, class Call>
auto with_function_pointer(F& fn, Call&& call) {
  check_process_callable<F>();
  if constexpr (plain_function<F>) return call(static_cast<std::decay_t<F>>(fn));
  else if constexpr (captureless_lambda<F>) return call(+fn);
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

}  // namespace weft
