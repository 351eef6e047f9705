// SPDX-License-Identifier: Apache-2.0
// weft/detail/chunked_results.hpp: the range Pool::imap / imap_unordered return. Part of
// <weft/process.hpp>; not included on its own.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "weft/futures.hpp"

namespace weft {

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

}  // namespace weft
