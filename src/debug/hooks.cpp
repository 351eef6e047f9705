// Debug hook entry points. This baseline keeps object names and does nothing else;
// the lock-order, deadlock, stats and trace tools hang off these functions.
#include "weft/detail/hooks.hpp"

#include <string>
#include <unordered_map>

#include "park/word_lock.hpp"

namespace weft::detail {

std::atomic<std::uint32_t> g_debug_flags{0};

const char* obj_kind_name(ObjKind kind) noexcept {
  switch (kind) {
    case ObjKind::lock: return "Lock";
    case ObjKind::rlock: return "RLock";
    case ObjKind::condition: return "Condition";
    case ObjKind::semaphore: return "Semaphore";
    case ObjKind::event: return "Event";
    case ObjKind::barrier: return "Barrier";
    case ObjKind::queue: return "Queue";
    case ObjKind::future: return "Future";
    case ObjKind::thread: return "Thread";
    case ObjKind::executor: return "Executor";
    case ObjKind::timer: return "Timer";
    case ObjKind::other: break;
  }
  return "object";
}

namespace {
struct Names {
  WordLock lock;
  std::unordered_map<const void*, std::pair<ObjKind, std::string>> names;
};
Names& names() {
  static auto* n = new Names();  // leaked: used until the very end of the process
  return *n;
}
}  // namespace

namespace hooks {

void before_acquire(const void*, ObjKind, SourceLoc) {}
void after_acquire(const void*, ObjKind, SourceLoc, bool) noexcept {}
void after_release(const void*, ObjKind) noexcept {}
void wait_begin(const WaitSite&) noexcept {}
void wait_end(const WaitSite&, bool) noexcept {}

void object_named(const void* obj, ObjKind kind, std::string_view name) {
  Names& n = names();
  WordLockGuard guard(n.lock);
  n.names[obj] = {kind, std::string(name)};
}

void object_destroyed(const void* obj) noexcept {
  Names& n = names();
  WordLockGuard guard(n.lock);
  n.names.erase(obj);
}

void queue_put(const void*, std::size_t, std::uint64_t) noexcept {}
void queue_get(const void*, std::size_t, std::uint64_t) noexcept {}
void task_begin(const void*, std::uint64_t) noexcept {}
void task_end(const void*, std::uint64_t) noexcept {}
void thread_started(std::string_view) noexcept {}
void thread_finished() noexcept {}

}  // namespace hooks
}  // namespace weft::detail
