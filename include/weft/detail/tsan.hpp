// SPDX-License-Identifier: Apache-2.0
// weft/detail/tsan.hpp: ThreadSanitizer mutex annotations for weft's own locks.
//
// weft's locks are built on atomics and the parking lot, so TSan sees their
// happens-before edges but does not know they are mutexes. These macros tell it, so its
// reports name the lock and its lock-order (deadlock) detector sees them. Without TSan
// every macro expands to nothing. Not part of the public API.
#pragma once

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_TSAN 1
#endif
#endif
#if !defined(WEFT_TSAN) && defined(__SANITIZE_THREAD__)
#define WEFT_TSAN 1
#endif

#if defined(WEFT_TSAN)
extern "C" {
// From <sanitizer/tsan_interface.h>; declared here so no sanitizer header is needed.
void __tsan_mutex_create(void* addr, unsigned flags);
void __tsan_mutex_destroy(void* addr, unsigned flags);
void __tsan_mutex_pre_lock(void* addr, unsigned flags);
void __tsan_mutex_post_lock(void* addr, unsigned flags, int recursion);
int __tsan_mutex_pre_unlock(void* addr, unsigned flags);
void __tsan_mutex_post_unlock(void* addr, unsigned flags);
void __tsan_mutex_pre_divert(void* addr, unsigned flags);
void __tsan_mutex_post_divert(void* addr, unsigned flags);
}
namespace weft::detail::tsan {
inline constexpr unsigned kNotStatic = 1u << 8;     // __tsan_mutex_not_static
inline constexpr unsigned kTryLock = 1u << 4;       // __tsan_mutex_try_lock
inline constexpr unsigned kTryLockFailed = 1u << 5; // __tsan_mutex_try_lock_failed
}  // namespace weft::detail::tsan
// `m` is the lock's address; the void* casts drop const and the object type.
#define WEFT_TSAN_MUTEX_CREATE(m) \
  __tsan_mutex_create(const_cast<void*>(static_cast<const void*>(m)), ::weft::detail::tsan::kNotStatic)
#define WEFT_TSAN_MUTEX_DESTROY(m) \
  __tsan_mutex_destroy(const_cast<void*>(static_cast<const void*>(m)), ::weft::detail::tsan::kNotStatic)
// Around a blocking acquisition that always succeeds.
#define WEFT_TSAN_PRE_LOCK(m) __tsan_mutex_pre_lock(static_cast<void*>(m), 0)
#define WEFT_TSAN_POST_LOCK(m) __tsan_mutex_post_lock(static_cast<void*>(m), 0, 0)
// Around an acquisition that may fail (try or timed); `ok` says whether it succeeded.
#define WEFT_TSAN_PRE_TRYLOCK(m) __tsan_mutex_pre_lock(static_cast<void*>(m), ::weft::detail::tsan::kTryLock)
#define WEFT_TSAN_POST_TRYLOCK(m, ok)                                                       \
  __tsan_mutex_post_lock(static_cast<void*>(m),                                            \
                         (ok) ? ::weft::detail::tsan::kTryLock                             \
                              : (::weft::detail::tsan::kTryLock | ::weft::detail::tsan::kTryLockFailed), \
                         0)
#define WEFT_TSAN_PRE_UNLOCK(m) static_cast<void>(__tsan_mutex_pre_unlock(static_cast<void*>(m), 0))
#define WEFT_TSAN_POST_UNLOCK(m) __tsan_mutex_post_unlock(static_cast<void*>(m), 0)
// Between PRE_* and POST_* TSan ignores memory accesses and synchronisation; wrap calls
// into the parking lot there in a DIVERT pair so TSan analyses them normally.
#define WEFT_TSAN_PRE_DIVERT(m) __tsan_mutex_pre_divert(static_cast<void*>(m), 0)
#define WEFT_TSAN_POST_DIVERT(m) __tsan_mutex_post_divert(static_cast<void*>(m), 0)
#else
#define WEFT_TSAN_MUTEX_CREATE(m) static_cast<void>(0)
#define WEFT_TSAN_MUTEX_DESTROY(m) static_cast<void>(0)
#define WEFT_TSAN_PRE_LOCK(m) static_cast<void>(0)
#define WEFT_TSAN_POST_LOCK(m) static_cast<void>(0)
#define WEFT_TSAN_PRE_TRYLOCK(m) static_cast<void>(0)
#define WEFT_TSAN_POST_TRYLOCK(m, ok) static_cast<void>(0)
#define WEFT_TSAN_PRE_UNLOCK(m) static_cast<void>(0)
#define WEFT_TSAN_POST_UNLOCK(m) static_cast<void>(0)
#define WEFT_TSAN_PRE_DIVERT(m) static_cast<void>(0)
#define WEFT_TSAN_POST_DIVERT(m) static_cast<void>(0)
#endif
