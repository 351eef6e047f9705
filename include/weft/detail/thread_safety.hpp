// SPDX-License-Identifier: Apache-2.0
// weft/detail/thread_safety.hpp: Clang thread-safety annotations (capabilities).
//
// With clang, -Wthread-safety checks at compile time that a member marked
// WEFT_GUARDED_BY(lock) is only touched with that lock held, and that functions marked
// WEFT_ACQUIRE / WEFT_RELEASE / WEFT_REQUIRES keep their promise. weft's library build
// turns the check on for clang (warnings are errors there). Other compilers ignore the
// annotations: every macro expands to nothing. Not part of the public API.
#pragma once

#if defined(__clang__)
#define WEFT_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define WEFT_THREAD_ANNOTATION(x)
#endif

// A type whose objects are locks ("mutex" in the diagnostics).
#define WEFT_CAPABILITY(name) WEFT_THREAD_ANNOTATION(capability(name))
// An RAII type that holds a lock from its constructor to its destructor.
#define WEFT_SCOPED_CAPABILITY WEFT_THREAD_ANNOTATION(scoped_lockable)
// A member read or written only with `lock` held.
#define WEFT_GUARDED_BY(lock) WEFT_THREAD_ANNOTATION(guarded_by(lock))
// The function must be called with the locks held (and returns with them held).
#define WEFT_REQUIRES(...) WEFT_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// The function acquires / releases the locks (no argument: the object itself).
#define WEFT_ACQUIRE(...) WEFT_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define WEFT_RELEASE(...) WEFT_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// The function acquires the lock if and only if it returns `result`.
#define WEFT_TRY_ACQUIRE(...) WEFT_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// The function must be called without the locks held.
#define WEFT_EXCLUDES(...) WEFT_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// The check is off inside this function (a protocol it cannot follow, stated in a comment).
#define WEFT_NO_THREAD_SAFETY_ANALYSIS WEFT_THREAD_ANNOTATION(no_thread_safety_analysis)
