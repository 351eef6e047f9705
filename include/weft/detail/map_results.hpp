// SPDX-License-Identifier: Apache-2.0
// weft/detail/map_results.hpp: map() of every executor (ThreadPoolExecutor,
// ProcessPoolExecutor, weft::dist's executor): the submissions and the range of results.
// Part of <weft/futures.hpp>; include that.
//
// Contract: map_results() submits every input at once, in order; if a submission
// throws, the futures already made are cancelled and the exception propagates. The
// range it returns yields the results in input order, blocking for each, with one
// deadline for the whole iteration; dropping it cancels the calls not yet reached.
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/detail/future_handle.hpp"
#include "weft/detail/future_state.hpp"

namespace weft::detail {

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
  // A wait cut short by a stop, a Timeout scope or Ctrl-C takes no result: iterating
  // again (a new begin(), or ++) waits for the same one.
  using iterator = PullIterator<MapResults, value_type>;
  std::size_t size() const noexcept { return fs_.size(); }

 private:
  friend iterator;
  friend PullRange<MapResults, value_type>;
  bool exhausted() const noexcept { return !current_.has_value(); }
  value_type& current_item() noexcept { return *current_; }
  // A wait that ends without the future being done (a stop, Ctrl-C, the deadline)
  // consumes nothing: iterating again waits for the same result.
  void advance() {
    current_.reset();
    if (next_ >= fs_.size()) return;
    Future<R>& f = fs_[next_];
    try {
      take_result(f);
    } catch (...) {
      if (f.done()) ++next_;  // the task's own exception: consumed
      throw;
    }
    ++next_;
  }
  void take_result(Future<R>& f) {
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

}  // namespace weft::detail
