// SPDX-License-Identifier: Apache-2.0
// Lock: weft's lock algorithm (detail/lock_algorithm.hpp, slow paths in
// lock_slow_path.hpp) with the debug tools' reports. Fast paths are inline in
// weft/lock.hpp.
#include "weft/lock.hpp"

#include "threading/lock_slow_path.hpp"
#include "weft/errors.hpp"

namespace weft {

struct Lock::Hooks : detail::NoLockHooks {
  const Lock* lock;
  detail::SourceLoc loc;
  bool debug = detail::debug_on();

  explicit Hooks(const Lock* self, detail::SourceLoc site = {}) noexcept : lock(self), loc(site) {}

  void before_lock(detail::Deadline deadline) {
    // A try is not a blocking acquisition: no lock-order check.
    if (debug && deadline != detail::kImmediate)
      detail::hooks::before_acquire(lock, detail::ObjKind::lock, loc);
  }
  void after_lock(bool acquired, bool contended) noexcept {
    if (acquired && debug) detail::hooks::after_acquire(lock, detail::ObjKind::lock, loc, contended);
  }
  detail::WaitSite wait_site() const noexcept {
    return detail::WaitSite{lock, detail::ObjKind::lock, loc};
  }
  [[noreturn]] void not_held() { throw RuntimeError("release unlocked lock"); }
  void on_release() noexcept {
    // Before the unpark: once the word changes another thread may acquire and report.
    if (detail::debug_on()) detail::hooks::after_release(lock, detail::ObjKind::lock);
  }
};

Lock::Lock(std::string_view name) {
  if (!name.empty()) set_name(name);
}

Lock::~Lock() { detail::hooks::forget_object(this, flags_); }

void Lock::set_name(std::string_view name) {
  detail::hooks::name_object(this, detail::ObjKind::lock, name, flags_);
}

bool Lock::acquire_slow(detail::Deadline deadline, detail::SourceLoc loc, bool interruptible) {
  Hooks hooks(this, loc);
  return Algorithm::lock_slow(state_, deadline, hooks,
                              interruptible ? detail::Interruptible::kYes : detail::Interruptible::kNo);
}

void Lock::release_slow() {
  Hooks hooks(this);
  Algorithm::unlock_slow(state_, hooks);
}

void Lock::adopt_handoff(SavedState, detail::SourceLoc loc) noexcept {
  WEFT_ASSERT(locked());
  if (detail::debug_on()) detail::hooks::after_acquire(this, detail::ObjKind::lock, loc, true);
}

}  // namespace weft
