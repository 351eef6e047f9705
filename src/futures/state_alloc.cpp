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
//   - a thread's cache is freed when the thread exits (a pthread key's destructor; a
//     thread whose key cannot be set, e.g. out of memory, does not cache at all);
//   - freeing never allocates, never aborts: only allocation may fail (std::bad_alloc).
// Under AddressSanitizer (or with -DWEFT_NO_STATE_CACHE) states go straight to malloc,
// so that a use after free is still reported.
#include <cstddef>
#include <cstdint>
#include <new>

#include <pthread.h>

#include "weft/detail/config.hpp"
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

// Trivially destructible, so that touching it never registers a TLS destructor: glibc
// allocates that registration and aborts when the allocation fails, and the first touch
// may be in operator delete, which must never fail. The cache is drained at thread exit
// through a pthread key instead, registered on the allocation path (pthread_setspecific
// reports failure; then the thread simply does not cache).
struct ThreadCache {
  FreeBlock* lists[kClasses];
  std::size_t bytes;      // cached
  std::uint64_t credit;   // blocks allocated and not yet matched by a cached one
  bool registered;        // the exit hook will drain this cache; only then it caches
  bool gone;              // drained at thread exit: no more caching on this thread
};

thread_local ThreadCache t_cache{};

void drain_cache(void* p) noexcept {
  auto* cache = static_cast<ThreadCache*>(p);
  cache->gone = true;
  cache->registered = false;
  for (FreeBlock*& list : cache->lists) {
    while (list != nullptr) {
      FreeBlock* next = list->next;
      ::operator delete(static_cast<void*>(list));
      list = next;
    }
  }
  cache->bytes = 0;
}

// The key whose destructor drains a thread's cache; created once, before main().
struct CacheKey {
  pthread_key_t key{};
  bool ok = pthread_key_create(&key, drain_cache) == 0;
};
const CacheKey g_cache_key;

// True if this thread's cache is registered for draining (registering it if it can).
bool cache_usable(ThreadCache& cache) noexcept {
  if (WEFT_LIKELY(cache.registered)) return true;
  if (cache.gone || !g_cache_key.ok) return false;
  if (pthread_setspecific(g_cache_key.key, &cache) != 0) return false;
  cache.registered = true;
  return true;
}

}  // namespace

void* FutureStateBase::operator new(std::size_t size) {
  if (size > kMaxCached) return ::operator new(size);
  const std::size_t c = class_of(size);
  ThreadCache& cache = t_cache;
  // Always the whole class: another thread may cache the block when it frees it.
  if (!cache_usable(cache)) return ::operator new(class_bytes(c));
  void* block;
  if (FreeBlock* b = cache.lists[c]) {
    cache.lists[c] = b->next;
    cache.bytes -= class_bytes(c);
    block = b;
  } else {
    block = ::operator new(class_bytes(c));  // std::bad_alloc leaves the cache unchanged
  }
  ++cache.credit;
  return block;
}

// Never allocates and never fails: a thread whose cache is not registered frees directly.
void FutureStateBase::operator delete(void* p, std::size_t size) noexcept {
  ThreadCache& cache = t_cache;
  if (size <= kMaxCached && cache.registered) {
    const std::size_t c = class_of(size);
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

std::size_t cached_state_bytes() noexcept { return t_cache.bytes; }

#else  // AddressSanitizer: every state is its own malloc block.

void* FutureStateBase::operator new(std::size_t size) { return ::operator new(size); }
void FutureStateBase::operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
std::size_t cached_state_bytes() noexcept { return 0; }

#endif

}  // namespace weft::detail
