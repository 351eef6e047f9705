// SPDX-License-Identifier: Apache-2.0
// weft/local.hpp: local<T>, one value per thread per object.  (Python: threading.local)
//
// Part of <weft/threading.hpp>. Design: docs/design.md (L2 primitives).
#pragma once

#include <cstdint>
#include <memory>

#include "weft/detail/config.hpp"
#include "weft/detail/link_debug_tools.hpp"

namespace weft {
namespace detail {

using LocalDestroy = void (*)(void*) noexcept;

// The type-independent part of local<T>: slots are linked both to their local object
// and to their thread, under one internal WordLock (src/threading/local.cpp).
class LocalBase {
 public:
  LocalBase(const LocalBase&) = delete;
  LocalBase& operator=(const LocalBase&) = delete;

 protected:
  using Destroy = LocalDestroy;
  LocalBase() noexcept;
  ~LocalBase();  // destroys the value of every thread

  // The calling thread's value, or nullptr. Lock-free: a thread's table is changed
  // only by that thread.
  void* find() const noexcept;
  // Records `value` as the calling thread's. Throws std::bad_alloc (value not taken).
  void insert(void* value, Destroy destroy);

 private:
  friend struct LocalAccess;
  std::uint64_t id_;              // unique per object, never reused
  struct LocalSlot* slots_ = nullptr;  // guarded by the internal WordLock
};

// Destroys the calling thread's values of every local (weft threads call it when
// run() returns; other threads at thread exit). Idempotent.
void local_thread_exit() noexcept;

}  // namespace detail

/// local<T>: an object with a separate T for each thread.    (Python: threading.local)
///
/// State: per thread, absent or a T. The first get() (or -> or *) on a thread
/// default-constructs that thread's T; later calls return the same T.
///
/// Guarantees
///   Memory:  each T is created, used and (normally) destroyed by its own thread; a T
///            destroyed by ~local() on another thread is handed over under an internal
///            lock, so its thread's writes are visible to its destructor.
///   A thread's T is destroyed when that thread exits (for a weft Thread: when run()
///   returns, before join() returns) or when the local is destroyed, whichever is first.
/// Fairness: n/a.  Blocking: never, except briefly on an internal lock at a thread's
///   first access, at thread exit and in ~local().
/// Cost:     get() after the first access is one hash lookup, no lock, no atomic RMW.
///           One allocation per thread per local.
/// Lifetime: ~local() may run while other threads still exist, but not while any of
///           them uses its T (a T& must not outlive the local or its thread).
/// Invalid:  n/a beyond the lifetime rule. T must be default-constructible.
///
///   weft::local<int> counter;            // Python: data = threading.local()
///   ++counter.get();                     // each thread counts on its own
template <class T>
class local : private detail::LocalBase {
 public:
  local() = default;
  ~local() = default;

  /// The calling thread's T, default-constructed on first use (which may throw).
  T& get() {
    if (void* p = find()) return *static_cast<T*>(p);
    return create();
  }
  T* operator->() { return &get(); }
  T& operator*() { return get(); }

 private:
  T& create() {
    auto value = std::make_unique<T>();
    insert(value.get(), &destroy);
    return *value.release();
  }
  static void destroy(void* p) noexcept { delete static_cast<T*>(p); }
};

}  // namespace weft
