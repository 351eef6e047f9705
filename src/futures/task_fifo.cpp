// SPDX-License-Identifier: Apache-2.0
// TaskFifo's segments (task_fifo.hpp, (Q4)): those of destroyed queues, kept for reuse by
// every pool of the process.
#include "task_fifo.hpp"

#include <mutex>

#include "weft/lock.hpp"

namespace weft::detail {

namespace {

struct SegmentCache {
  InternalLock lock;
  TaskFifo::Segment* free = nullptr;  // linked through next
  std::size_t count = 0;
};

// Never destroyed: a pool may give its segments back during static destruction.
SegmentCache& segment_cache() {
  static SegmentCache* const cache = new SegmentCache;
  return *cache;
}

}  // namespace

TaskFifo::Segment* TaskFifo::new_segment() {
  SegmentCache& cache = segment_cache();
  {
    std::scoped_lock hold(cache.lock);
    if (Segment* s = cache.free) {
      cache.free = s->next;
      --cache.count;
      s->next = nullptr;
      return s;
    }
  }
  return new Segment;
}

void TaskFifo::free_segment(Segment* s) noexcept {
  SegmentCache& cache = segment_cache();
  {
    std::scoped_lock hold(cache.lock);
    if (cache.count < kCachedSegments) {
      s->next = cache.free;
      cache.free = s;
      ++cache.count;
      return;
    }
  }
  delete s;
}

}  // namespace weft::detail
