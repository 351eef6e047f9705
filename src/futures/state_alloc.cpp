// Memory for future states: FutureStateBase::operator new / delete.
//
// A burst of submits allocates one small block per task and frees them all once the
// results are read. Handing those blocks back to malloc makes it return the pages to the
// kernel, and the next burst pays a page fault per 4 KiB again (measured: about 4% of
// the CPU of 100k tasks of 1 us). So freed blocks are recycled, the way magazine
// allocators do it:
//   - sizes up to kMaxCached bytes are rounded up to a multiple of kGranule (a class);
//   - each thread keeps a free list per class, at most 2 * kBatch blocks;
//   - beyond that, kBatch blocks move together to a global depot (one lock acquisition
//     per batch), which holds at most kDepotBytes; past that bound blocks go back to
//     malloc, and a thread that finds its list empty takes a batch from the depot first;
//   - a thread that exits gives its blocks to the depot (or to malloc when it is full).
// So a process keeps at most kDepotBytes plus 2 * kBatch blocks per class per thread of
// recycled memory. Under AddressSanitizer states go straight to malloc, so that a use
// after free is still reported.
#include <pthread.h>

#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <new>

#include "weft/detail/future_state.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_STATE_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_STATE_CACHE 0
#endif
#endif
#ifndef WEFT_STATE_CACHE
#define WEFT_STATE_CACHE 1
#endif

namespace weft::detail {

#if WEFT_STATE_CACHE

namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kClasses = 16;
constexpr std::size_t kMaxCached = kGranule * kClasses;  // 256 bytes
constexpr std::size_t kBatch = 64;
constexpr std::size_t kDepotBytes = std::size_t{16} << 20;  // 16 MiB

struct FreeBlock {
  FreeBlock* next;        // within a list or a batch
  FreeBlock* next_batch;  // depot: the next batch of the class (first block of a batch)
};
static_assert(sizeof(FreeBlock) <= sizeof(FutureStateBase), "a state block holds a link");

std::size_t class_of(std::size_t size) noexcept { return (size - 1) / kGranule; }
std::size_t class_bytes(std::size_t c) noexcept { return (c + 1) * kGranule; }

// Full batches of kBatch blocks per class, shared by all threads.
class Depot {
 public:
  Depot() {
    // fork() while another thread holds the lock must not leave it held in the child.
    pthread_atfork([] { instance().lock_.lock(); }, [] { instance().lock_.unlock(); },
                   [] { instance().lock_.unlock(); });
  }

  static Depot& instance() {
    static Depot* depot = new Depot;  // leaked: usable from thread exits at any time
    return *depot;
  }

  // A batch of class c (kBatch blocks linked by next), or null.
  FreeBlock* take(std::size_t c) noexcept {
    std::scoped_lock hold(lock_);
    FreeBlock* batch = batches_[c];
    if (batch != nullptr) {
      batches_[c] = batch->next_batch;
      bytes_ -= kBatch * class_bytes(c);
    }
    return batch;
  }

  // Keeps the batch if the depot has room; false: the caller frees it.
  bool give(std::size_t c, FreeBlock* batch) noexcept {
    const std::size_t bytes = kBatch * class_bytes(c);
    std::scoped_lock hold(lock_);
    if (bytes_ + bytes > kDepotBytes) return false;
    batch->next_batch = batches_[c];
    batches_[c] = batch;
    bytes_ += bytes;
    return true;
  }

 private:
  std::mutex lock_;
  FreeBlock* batches_[kClasses] = {};
  std::size_t bytes_ = 0;
};

void free_list(FreeBlock* b) noexcept {
  while (b != nullptr) {
    FreeBlock* next = b->next;
    ::operator delete(static_cast<void*>(b));
    b = next;
  }
}

// Detaches the first n blocks of `list` (which has at least n) and returns them.
FreeBlock* split(FreeBlock*& list, std::size_t n) noexcept {
  FreeBlock* first = list;
  FreeBlock* last = list;
  for (std::size_t i = 1; i < n; ++i) last = last->next;
  list = last->next;
  last->next = nullptr;
  return first;
}

struct ThreadCache {
  FreeBlock* lists[kClasses] = {};
  std::size_t counts[kClasses] = {};
  ~ThreadCache();
};

thread_local bool t_cache_gone = false;  // trivially destructible: readable after ~ThreadCache
thread_local ThreadCache t_cache;

ThreadCache::~ThreadCache() {
  t_cache_gone = true;
  for (std::size_t c = 0; c < kClasses; ++c) {
    while (counts[c] >= kBatch) {
      FreeBlock* batch = split(lists[c], kBatch);
      counts[c] -= kBatch;
      if (!Depot::instance().give(c, batch)) free_list(batch);
    }
    free_list(lists[c]);
    lists[c] = nullptr;
    counts[c] = 0;
  }
}

}  // namespace

void* FutureStateBase::operator new(std::size_t size) {
  if (size > kMaxCached) return ::operator new(size);
  const std::size_t c = class_of(size);
  // Always the whole class: another thread may recycle the block later.
  if (t_cache_gone) return ::operator new(class_bytes(c));
  ThreadCache& cache = t_cache;
  if (cache.lists[c] == nullptr) {
    FreeBlock* batch = Depot::instance().take(c);
    if (batch == nullptr) return ::operator new(class_bytes(c));
    cache.lists[c] = batch;
    cache.counts[c] = kBatch;
  }
  FreeBlock* b = cache.lists[c];
  cache.lists[c] = b->next;
  --cache.counts[c];
  return b;
}

void FutureStateBase::operator delete(void* p, std::size_t size) noexcept {
  if (size > kMaxCached || t_cache_gone) {
    ::operator delete(p);
    return;
  }
  const std::size_t c = class_of(size);
  ThreadCache& cache = t_cache;
  auto* b = static_cast<FreeBlock*>(p);
  b->next = cache.lists[c];
  cache.lists[c] = b;
  if (++cache.counts[c] < 2 * kBatch) return;
  FreeBlock* batch = split(cache.lists[c], kBatch);
  cache.counts[c] -= kBatch;
  if (!Depot::instance().give(c, batch)) free_list(batch);
}

#else  // AddressSanitizer: every state is its own malloc block.

void* FutureStateBase::operator new(std::size_t size) { return ::operator new(size); }
void FutureStateBase::operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }

#endif

}  // namespace weft::detail
