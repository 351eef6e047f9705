// SPDX-License-Identifier: Apache-2.0
// weft/dist.hpp: Queue and Executor beyond one machine, on a Redis server (weft::dist).
//
// Link weft::dist (CMake: find_package(weft CONFIG REQUIRED COMPONENTS dist); pkg-config:
// weft-dist). Guarantees, failure behaviour and URL forms: docs/distributed.md.
//
// URL forms (NAME names the queue or executor on that server):
//   redis://[:PASSWORD@]HOST:PORT/NAME[?timeout=MS]
//   redis+unix://[:PASSWORD@]/ABSOLUTE/PATH/TO/SOCKET?name=NAME[&timeout=MS]
// timeout (default 5000 ms) is the connection budget: connecting and every command
// wait at most that long (a blocking get or read: its block time plus that long), then
// throw ConnectionError. No call waits forever on a server that does not answer.
//
// Wire types are those of ProcessPoolExecutor (weft/detail/wire.hpp). Integers travel in
// host byte order: every machine of one queue or executor has the same byte order
// (all x86-64 and AArch64 Linux machines do).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/detail/wire.hpp"
#include "weft/errors.hpp"
#include "weft/futures.hpp"
#include "weft/process.hpp"

namespace weft::dist {

/// The server could not be reached, did not answer within the connection budget,
/// refused the password, or is not a Redis server.
class ConnectionError : public weft::Error {
 public:
  using weft::Error::Error;
};

/// A task's workers died (or went silent past their lease) max_deliveries times; the
/// task was moved to the executor's dead-letter stream.
class WorkerLost : public weft::BrokenExecutor {
 public:
  using weft::BrokenExecutor::BrokenExecutor;
};

namespace detail {

using weft::detail::Deadline;

enum class Status : std::uint8_t { ok, empty, full, shutdown };

// The untyped queue on the server: payloads are wire-encoded items. Thread-safe.
class QueueCore {
 public:
  QueueCore(std::string url, std::size_t maxsize);  // connects once: ConnectionError
  ~QueueCore();
  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;

  Status put(std::string_view payload, Deadline deadline);
  // Puts payloads in order while there is room; returns how many went in. ShutDown
  // (thrown) only if none went in because the queue is shut down.
  std::size_t put_many(std::span<const std::string> payloads, Deadline deadline);
  // Up to max_items payloads (1 for get); Status::ok with at least one, or why not.
  Status get(std::size_t max_items, Deadline deadline, std::vector<std::string>& out);
  void task_done();
  bool join(Deadline deadline);
  std::size_t qsize();
  std::size_t maxsize() const noexcept;
  std::vector<std::string> shutdown(bool immediate);
  bool is_shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string encode_item(const auto& item) {
  WireWriter w;
  w.write(item);
  return std::move(w.buffer());
}
template <class T>
T decode_item(const std::string& bytes) {
  WireReader r(bytes);
  return r.read<T>();
}

// ---- functions by name (WEFT_REMOTE) ----

using Invoker = void (*)(std::uintptr_t fn, WireReader& in, WireWriter& out);

struct RemoteFunction {
  std::string name;          // as spelled in WEFT_REMOTE(...)
  std::uint64_t signature;   // signature_hash<R, P...>()
  std::uintptr_t fn;
  Invoker invoke;
};

// Registers f (at static initialisation); a second function under the same name makes
// that name ambiguous: submitting it throws ValueError and workers refuse it.
bool register_function(RemoteFunction f);
// The registered entry for a function pointer / a name; null if none (or ambiguous).
const RemoteFunction* find_function(std::uintptr_t fn);
const RemoteFunction* find_function(std::string_view name);

// The type's name as the compiler spells it ("ns::Point"), for signatures of user types.
template <class T>
std::string_view type_name() {
  const std::string_view f = __PRETTY_FUNCTION__;
  const std::size_t start = f.find("T = ") + 4;
  const std::size_t end = f.find_first_of(";]", start);
  return f.substr(start, end - start);
}

// A structural description of a wire type: kinds and sizes, names only for user types.
template <class T>
void append_signature(std::string& s) {
  using U = std::remove_cv_t<T>;
  namespace wd = weft::detail;
  if constexpr (wd::has_codec<U>) {
    s += "c:";
    s += type_name<U>();
  } else if constexpr (std::is_same_v<U, bool>) {
    s += 'b';
  } else if constexpr (std::is_integral_v<U>) {
    s += std::is_signed_v<U> ? 'i' : 'u';
    s += std::to_string(sizeof(U));
  } else if constexpr (std::is_floating_point_v<U>) {
    s += 'f';
    s += std::to_string(sizeof(U));
  } else if constexpr (std::is_enum_v<U>) {
    s += "e:";
    s += type_name<U>();
    s += '/';
    append_signature<std::underlying_type_t<U>>(s);
  } else if constexpr (std::is_same_v<U, std::string>) {
    s += 's';
  } else if constexpr (wd::is_vector<U>::value || wd::is_optional<U>::value) {
    s += wd::is_vector<U>::value ? "v[" : "o[";
    append_signature<typename U::value_type>(s);
    s += ']';
  } else if constexpr (wd::is_array<U>::value) {
    s += 'a' + std::to_string(std::tuple_size_v<U>) + '[';
    append_signature<typename U::value_type>(s);
    s += ']';
  } else if constexpr (wd::is_pair<U>::value) {
    s += "p[";
    append_signature<typename U::first_type>(s);
    s += ',';
    append_signature<typename U::second_type>(s);
    s += ']';
  } else if constexpr (wd::is_tuple<U>::value) {
    s += "t[";
    [&]<class... E>(std::type_identity<std::tuple<E...>>) {
      ((append_signature<E>(s), s += ','), ...);
    }(std::type_identity<U>{});
    s += ']';
  } else {
    static_assert(wd::wire_check<U>());
    s += "r:";
    s += type_name<U>();
    s += '/' + std::to_string(sizeof(U));
  }
}

std::uint64_t fnv1a(std::string_view s) noexcept;

// The hash of "R(P1,P2,...)" in the structural form above.
template <class R, class... P>
std::uint64_t signature_hash() {
  std::string s;
  if constexpr (std::is_void_v<R>) {
    s += "void";
  } else {
    append_signature<std::decay_t<R>>(s);
  }
  s += '(';
  ((append_signature<std::decay_t<P>>(s), s += ','), ...);
  s += ')';
  return fnv1a(s);
}

template <class R, class... P>
bool register_remote(const char* name, R (*fn)(P...)) {
  static_assert((weft::detail::wire_check<std::decay_t<P>>() && ... && true));
  if constexpr (!std::is_void_v<R>) static_assert(weft::detail::wire_check<std::decay_t<R>>());
  return register_function(RemoteFunction{name, signature_hash<R, P...>(),
                                          reinterpret_cast<std::uintptr_t>(fn),
                                          &weft::detail::invoke_remote<R, P...>});
}

// The executor's connection to the server: task stream, reply reader, pending futures.
class ExecutorCore;
using ResultDeliverer = weft::detail::ResultDeliverer;
ExecutorCore* make_executor(std::string url);
void destroy_executor(ExecutorCore* core) noexcept;
// Sends one task (takes over one reference of s). RuntimeError after shutdown;
// ConnectionError when the server cannot take it.
void executor_submit(ExecutorCore* core, weft::detail::FutureStateBase* s, std::string_view name,
                     std::uint64_t signature, std::string_view args, ResultDeliverer deliver);
void executor_shutdown(ExecutorCore* core, bool wait, bool cancel_futures);
// Replies read from the server so far, duplicates and strays included (for tests).
std::size_t executor_replies_received(ExecutorCore* core) noexcept;
struct ExecutorAccess;

}  // namespace detail

/// Queue<T>: weft::Queue's surface, shared by every process that opens the same URL.
///                                      (Python: queue.Queue, across machines)
///
/// Items live on the Redis server; this object is a handle (any number of handles, in
/// any processes, open the same queue). T is a wire type.
/// Guarantees
///   FIFO across all handles. A put that returned is on the server (and survives a
///   server crash when the server runs with appendonly yes / appendfsync always).
///   The bound (maxsize of the putting handle; 0: unbounded) is checked and the item
///   added in one server-side script, so concurrent putters never exceed it.
///   Each item has an id; task_done() counts the oldest item this handle got and has not
///   counted yet, by id, so an item is never counted twice; join() returns when every
///   item put (by any handle) was counted or drained by shutdown(true).
///   An item goes to at most one get. A get that fails with ConnectionError after the
///   server had taken the item (reply lost) loses that item: see docs/distributed.md.
/// Blocking: get waits on the server (a blocking pop), in slices of the connection
///   budget; put on a full queue and join re-check every few ms (up to 50 ms).
/// Shutdown: as weft::Queue (Python 3.13): shutdown(true) drains the items and returns
///   them to the caller, whichever process it is in; blocked getters everywhere wake.
/// Throws: ConnectionError (see the header comment); Empty, Full, ShutDown, ValueError
///   as weft::Queue.
template <class T>
class Queue {
  static_assert(weft::detail::wire_check<T>());

 public:
  explicit Queue(std::string url, std::size_t maxsize = 0)
      : core_(std::make_unique<detail::QueueCore>(std::move(url), maxsize)) {}

  void put(T item) { put_or_throw(item, weft::detail::kForever); }
  void put(T item, bool block) { put_or_throw(item, block ? weft::detail::kForever : now()); }
  template <class Rep, class Period>
  void put(T item, std::chrono::duration<Rep, Period> timeout) {
    put_or_throw(item, weft::detail::deadline_after(timeout));
  }
  void put_nowait(T item) { put_or_throw(item, now()); }
  /// true: put; false: full (the item stays with the caller). ShutDown after shutdown().
  [[nodiscard]] bool try_put(T& item) {
    return check_put(core_->put(detail::encode_item(item), now())) == detail::Status::ok;
  }
  /// Puts items in order, waiting for room as needed; one server round trip per batch.
  /// Returns how many went in (fewer only if shut down midway). ShutDown if none did.
  std::size_t put_many(std::span<const T> items) { return put_many_until(items, weft::detail::kForever); }
  template <class Rep, class Period>
  std::size_t put_many(std::span<const T> items, std::chrono::duration<Rep, Period> timeout) {
    return put_many_until(items, weft::detail::deadline_after(timeout));
  }

  T get() { return get_or_throw(weft::detail::kForever); }
  T get(bool block) { return get_or_throw(block ? weft::detail::kForever : now()); }
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return get_or_throw(weft::detail::deadline_after(timeout));
  }
  T get_nowait() { return get_or_throw(now()); }
  /// nullopt when empty (or shut down and empty).
  [[nodiscard]] std::optional<T> try_get() { return try_get_until(now()); }
  template <class D>
  [[nodiscard]] std::optional<T> try_get(D timeout) {
    return try_get_until(weft::detail::deadline_after(timeout));
  }
  /// Waits for at least one item, then takes up to max_items (one round trip).
  /// Throws ShutDown once shut down and empty.
  std::vector<T> get_many(std::size_t max_items) { return get_many_until(max_items, weft::detail::kForever); }
  /// As get_many(max_items); an empty vector if nothing came within timeout.
  template <class Rep, class Period>
  std::vector<T> get_many(std::size_t max_items, std::chrono::duration<Rep, Period> timeout) {
    return get_many_until(max_items, weft::detail::deadline_after(timeout));
  }

  /// Counts the oldest item this handle got and has not counted. ValueError if none.
  void task_done() { core_->task_done(); }
  void join() { core_->join(weft::detail::kForever); }
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return core_->join(weft::detail::deadline_after(timeout));
  }

  std::size_t qsize() const { return core_->qsize(); }
  bool empty() const { return qsize() == 0; }
  bool full() const { return maxsize() != 0 && qsize() >= maxsize(); }
  std::size_t maxsize() const noexcept { return core_->maxsize(); }

  /// For every handle: later puts throw ShutDown; gets drain what is left, then throw
  /// ShutDown. immediate: also removes the queued items, counts them done for join(),
  /// and returns them (in get order) to this caller.
  std::vector<T> shutdown(bool immediate = false) { return decode_all(core_->shutdown(immediate)); }
  bool is_shutdown() const { return core_->is_shutdown(); }

 private:
  static weft::detail::Deadline now() noexcept { return weft::detail::Clock::now(); }
  static detail::Status check_put(detail::Status s) {
    if (s == detail::Status::shutdown) throw ShutDown();
    return s;
  }
  void put_or_throw(const T& item, weft::detail::Deadline deadline) {
    if (check_put(core_->put(detail::encode_item(item), deadline)) == detail::Status::full)
      throw Full("queue is full");
  }
  std::size_t put_many_until(std::span<const T> items, weft::detail::Deadline deadline) {
    std::vector<std::string> payloads;
    payloads.reserve(items.size());
    for (const T& x : items) payloads.push_back(detail::encode_item(x));
    return core_->put_many(payloads, deadline);
  }
  static std::vector<T> decode_all(const std::vector<std::string>& payloads) {
    std::vector<T> out;
    out.reserve(payloads.size());
    for (const std::string& p : payloads) out.push_back(detail::decode_item<T>(p));
    return out;
  }
  detail::Status get_some(std::size_t n, weft::detail::Deadline deadline, std::vector<T>& out) {
    std::vector<std::string> payloads;
    const detail::Status s = core_->get(n, deadline, payloads);
    out = decode_all(payloads);
    return s;
  }
  T get_or_throw(weft::detail::Deadline deadline) {
    std::vector<T> one;
    switch (get_some(1, deadline, one)) {
      case detail::Status::ok: return std::move(one.front());
      case detail::Status::shutdown: throw ShutDown();
      default: throw Empty("queue is empty");
    }
  }
  std::optional<T> try_get_until(weft::detail::Deadline deadline) {
    std::vector<T> one;
    if (get_some(1, deadline, one) != detail::Status::ok) return std::nullopt;
    return std::move(one.front());
  }
  std::vector<T> get_many_until(std::size_t max_items, weft::detail::Deadline deadline) {
    std::vector<T> out;
    if (max_items == 0) return out;
    if (get_some(max_items, deadline, out) == detail::Status::shutdown) throw ShutDown();
    return out;
  }

  std::unique_ptr<detail::QueueCore> core_;
};

/// WEFT_REMOTE(fn): at namespace scope, registers the plain function fn under its name
/// as spelled here (WEFT_REMOTE(ns::f) registers "ns::f") with a hash of its wire
/// signature. Both the submitting program and the workers must register it.
#define WEFT_DIST_CONCAT2(a, b) a##b
#define WEFT_DIST_CONCAT(a, b) WEFT_DIST_CONCAT2(a, b)
#define WEFT_REMOTE(fn)                                                         \
  [[maybe_unused]] static const bool WEFT_DIST_CONCAT(weft_remote_, __COUNTER__) = \
      ::weft::dist::detail::register_remote(#fn, &fn)

/// Executor: ProcessPoolExecutor's surface; the tasks run in dist::serve() workers on
/// any machine that reaches the server.
///                        (Python: Celery / RQ on Redis, Dask's Client, MPIPoolExecutor)
///
/// The URL's NAME names the executor: one Executor per NAME at a time; workers serve
/// NAME. Functions travel by their WEFT_REMOTE name and signature hash.
/// Guarantees
///   A task runs at least once and exactly one result is accepted (the first written;
///   the result and the task's acknowledgement are one server-side script). A worker
///   that dies or goes silent mid-task has the task taken back after its lease; after
///   max_deliveries deliveries the task goes to the dead-letter stream and its future
///   fails with WorkerLost. A task that throws gives RemoteError ("Type: message"); an
///   unknown name or a mismatched signature gives RemoteError without running anything.
///   Results are weft::Futures: wait, as_completed and map work as with local executors.
///   cancel() succeeds until the result arrives (the task may still run on a worker; its
///   result is then dropped).
/// Blocking: submit makes one round trip; results arrive on a collector thread.
///   shutdown(true) (and the destructor) waits for every future not cancelled, then
///   removes all of the executor's keys from the server (task stream, consumer group,
///   replies, dead letters): with no worker serving, that wait does not end.
/// Throws: ValueError from submit if fn is not WEFT_REMOTE'd; RuntimeError after
///   shutdown; ConnectionError when the server cannot take the task.
class Executor {
 public:
  explicit Executor(std::string url) : core_(detail::make_executor(std::move(url))) {}
  ~Executor() { detail::destroy_executor(core_); }
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  template <class R, class... P, class... Args>
  Future<R> submit(R (*fn)(P...), Args&&... args) {
    const detail::RemoteFunction* f = detail::find_function(reinterpret_cast<std::uintptr_t>(fn));
    if (f == nullptr)
      throw ValueError("weft::dist::Executor::submit: the function is not registered with "
                       "WEFT_REMOTE (or its name is registered twice)");
    const std::string encoded = weft::detail::encode_arguments<P...>(std::forward<Args>(args)...);
    return submit_encoded<R>(f->name, f->signature, encoded);
  }

  template <class R, class P, class Range>
  auto map(R (*fn)(P), Range&& inputs) {
    return weft::detail::map_results<R>(*this, fn, inputs, weft::detail::kForever);
  }
  template <class R, class P, class Range, class D>
  auto map(R (*fn)(P), Range&& inputs, D timeout) {
    const weft::detail::Deadline deadline = weft::detail::deadline_after(timeout);
    return weft::detail::map_results<R>(*this, fn, inputs, deadline);
  }

  void shutdown(bool wait = true, bool cancel_futures = false) {
    detail::executor_shutdown(core_, wait, cancel_futures);
  }

 private:
  friend struct detail::ExecutorAccess;

  template <class R>
  Future<R> submit_encoded(std::string_view name, std::uint64_t signature, std::string_view args) {
    auto* s = new weft::detail::FutureState<R>();
    s->add_ref();  // one for the executor, one for the Future
    try {
      detail::executor_submit(core_, s, name, signature, args, &weft::detail::deliver_result<R>);
    } catch (...) {
      s->release();
      s->release();
      throw;
    }
    return weft::detail::adopt_future(s);
  }

  detail::ExecutorCore* core_;
};

namespace detail {
// Test access: submitting under any name and signature; the reply count.
struct ExecutorAccess {
  template <class R>
  static Future<R> submit_named(Executor& ex, std::string_view name, std::uint64_t signature,
                                std::string_view args) {
    return ex.submit_encoded<R>(name, signature, args);
  }
  static std::size_t replies_received(Executor& ex) noexcept {
    return executor_replies_received(ex.core_);
  }
};
}  // namespace detail

struct WorkerOptions {
  std::size_t threads = 1;                     // tasks run at once in this worker
  std::chrono::milliseconds lease{30000};      // a silent worker's task is taken back after this
  std::size_t max_deliveries = 3;              // then the future fails with WorkerLost
};

/// Runs tasks of the executor NAME (the URL's) in this process until the executor is
/// shut down (its stream is removed) or the process gets SIGTERM; then finishes the
/// tasks it is running, takes no new ones and returns. Waits for the executor to appear
/// if it does not exist yet. Survives server outages (reconnects with backoff, up to 1 s).
/// While serving it renews the lease of its running tasks every lease/4, and takes back
/// (or dead-letters) tasks idle longer than lease, but only after it has seen the server
/// answer promptly for a whole lease (so a paused or restarted server does not make it
/// take back tasks whose workers are alive). SIGTERM's handler is installed while serve
/// runs and restored afterwards.
/// Throws: ValueError for a bad URL or options; ConnectionError if the first connection
///   fails (bad address, wrong password, not a Redis server).
void serve(std::string url, WorkerOptions options = {});

}  // namespace weft::dist
