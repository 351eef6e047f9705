// SPDX-License-Identifier: Apache-2.0
// weft/detail/future_waits.hpp: wait() and as_completed() over any range of futures,
// with ReturnWhen and DoneAndNotDone. Part of <weft/futures.hpp>; include that.
//
// Contract: both read their range once (duplicates, by shared state, kept once) before
// they block; wait() blocks in detail::wait_for_states and as_completed() listens with
// one CompletionQueue (both out of line in src/futures/). Timeouts count from the call.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/future_handle.hpp"
#include "weft/detail/future_state.hpp"
#include "weft/errors.hpp"

namespace weft {

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
