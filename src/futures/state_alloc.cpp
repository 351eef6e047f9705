// SPDX-License-Identifier: Apache-2.0
// Memory for future states: FutureStateBase::operator new / delete.
//
// A burst of submits allocates one small block per task and frees them all once the
// results are read. Handed back to malloc, those blocks make glibc return the pages to
// the kernel, and the next burst faults them in again: about 2,400 page faults and 4%
// of the CPU of 100k tasks of 1 us (bench/RESULTS.md). So a thread keeps the blocks it
// frees, per size class, and takes new states from them:
//   - sizes up to kMaxCached bytes are rounded up to a multiple of kGranule (a class);
//   - a thread caches a freed block only while it has "credit": one per block it
//     allocated, one spent per block cached. A thread that only frees states (a worker
//     running tasks whose futures were dropped) therefore caches nothing, and a thread
//     never holds more than it had allocated;
//   - at most kCacheBytes per thread; beyond that blocks go back to malloc;
//   - a thread's cache is freed when the thread exits.
// Under AddressSanitizer (or with -DWEFT_NO_STATE_CACHE) states go straight to malloc,
// so that a use after free is still reported.
#include <cstddef>
#include <cstdint>
#include <new>

#include "weft/detail/future_state.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(WEFT_NO_STATE_CACHE)
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
constexpr std::size_t kMaxCached = kGranule * kClasses;     // 256 bytes
constexpr std::size_t kCacheBytes = std::size_t{16} << 20;  // 16 MiB per thread

struct FreeBlock {
  FreeBlock* next;
};

std::size_t class_of(std::size_t size) noexcept { return (size - 1) / kGranule; }
std::size_t class_bytes(std::size_t c) noexcept { return (c + 1) * kGranule; }

struct ThreadCache {
  FreeBlock* lists[kClasses] = {};
  std::size_t bytes = 0;    // cached
  std::uint64_t credit = 0; // blocks allocated and not yet matched by a cached one
  ~ThreadCache();
};

thread_local bool t_cache_gone = false;  // trivially destructible: readable after ~ThreadCache
thread_local ThreadCache t_cache;

ThreadCache::~ThreadCache() {
  t_cache_gone = true;
  for (FreeBlock*& list : lists) {
    while (list != nullptr) {
      FreeBlock* next = list->next;
      ::operator delete(static_cast<void*>(list));
      list = next;
    }
  }
  bytes = 0;
}

}  // namespace

void* FutureStateBase::operator new(std::size_t size) {
  if (size > kMaxCached) return ::operator new(size);
  const std::size_t c = class_of(size);
  // Always the whole class: another thread may cache the block when it frees it.
  if (t_cache_gone) return ::operator new(class_bytes(c));
  ThreadCache& cache = t_cache;
  ++cache.credit;
  if (FreeBlock* b = cache.lists[c]) {
    cache.lists[c] = b->next;
    cache.bytes -= class_bytes(c);
    return b;
  }
  return ::operator new(class_bytes(c));
}

void FutureStateBase::operator delete(void* p, std::size_t size) noexcept {
  if (size <= kMaxCached && !t_cache_gone) {
    const std::size_t c = class_of(size);
    ThreadCache& cache = t_cache;
    if (cache.credit != 0 && cache.bytes + class_bytes(c) <= kCacheBytes) {
      --cache.credit;
      auto* b = static_cast<FreeBlock*>(p);
      b->next = cache.lists[c];
      cache.lists[c] = b;
      cache.bytes += class_bytes(c);
      return;
    }
  }
  ::operator delete(p);
}

std::size_t cached_state_bytes() noexcept { return t_cache_gone ? 0 : t_cache.bytes; }

#else  // AddressSanitizer: every state is its own malloc block.

void* FutureStateBase::operator new(std::size_t size) { return ::operator new(size); }
void FutureStateBase::operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
std::size_t cached_state_bytes() noexcept { return 0; }

#endif

}  // namespace weft::detail
