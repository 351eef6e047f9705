// SPDX-License-Identifier: Apache-2.0
// Object names for the debug tools: object -> interned NameRec (which also carries the
// object's statistics), and how objects and call sites are shown in reports.
#include <cstdio>
#include <map>
#include <memory>
#include <new>
#include <unordered_map>

#include "debug/hook_table.hpp"
#include "debug/state.hpp"

namespace weft::detail {

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

namespace dbg {
namespace {

// ---- names: object -> interned NameRec ----
constexpr std::size_t kShards = 16;
struct alignas(64) NameShard {
  WordLock lock;
  // An object and its first member share an address (a Queue and its Lock): names are
  // per (address, kind).
  std::unordered_map<const void*, std::vector<const NameRec*>> names;
};
struct Names {
  NameShard shards[kShards];
  WordLock intern_lock;
  std::map<std::pair<ObjKind, std::string>, std::unique_ptr<NameRec>> interned;
};
// Built in static storage on first use and never destroyed (used until the very end of the
// process). No heap: a destroyed object's hook reaches here from a destructor, which must
// not throw std::bad_alloc when memory is exhausted.
Names& names() {
  alignas(Names) static unsigned char storage[sizeof(Names)];
  static Names* n = ::new (static_cast<void*>(storage)) Names();
  return *n;
}
NameShard& shard_of(const void* obj) {
  const auto h = reinterpret_cast<std::uintptr_t>(obj) * 0x9E3779B97F4A7C15ull;
  return names().shards[h >> 60];
}

const NameRec* intern(ObjKind kind, std::string_view name) {
  Names& n = names();
  WordLockGuard guard(n.intern_lock);
  auto& slot = n.interned[{kind, std::string(name)}];
  if (!slot) {
    slot = std::make_unique<NameRec>();
    slot->kind = kind;
    slot->name = std::string(name);
  }
  return slot.get();
}

}  // namespace

const NameRec* name_of(const void* obj, ObjKind kind) noexcept {
  NameShard& s = shard_of(obj);
  WordLockGuard guard(s.lock);
  auto it = s.names.find(obj);
  if (it == s.names.end()) return nullptr;
  for (const NameRec* n : it->second)
    if (n->kind == kind) return n;
  return nullptr;
}

std::vector<const NameRec*> all_names() {
  Names& n = names();
  WordLockGuard guard(n.intern_lock);
  std::vector<const NameRec*> out;
  out.reserve(n.interned.size());
  for (const auto& e : n.interned) out.push_back(e.second.get());
  return out;
}

std::string describe(const void* obj, ObjKind kind, const NameRec* name) {
  std::string out = obj_kind_name(kind);
  if (name != nullptr && !name->name.empty()) {
    out += " \"" + name->name + "\"";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, " %p", obj);
    out += buf;
  }
  return out;
}

std::string describe(const void* obj, ObjKind kind) { return describe(obj, kind, name_of(obj, kind)); }

std::string site_string(SourceLoc loc) {
  if (loc.file == nullptr || loc.file[0] == '\0') return "?";
  std::string_view f(loc.file);
  const auto last = f.rfind('/');
  if (last != std::string_view::npos && last > 0) {
    const auto prev = f.rfind('/', last - 1);
    if (prev != std::string_view::npos) f.remove_prefix(prev + 1);
  }
  return std::string(f) + ":" + std::to_string(loc.line);
}

}  // namespace dbg

namespace hook_impl {

using namespace dbg;

void object_named(const void* obj, ObjKind kind, std::string_view name) {
  const NameRec* rec = intern(kind, name);
  NameShard& s = shard_of(obj);
  WordLockGuard guard(s.lock);
  auto& list = s.names[obj];
  for (const NameRec*& n : list) {
    if (n->kind == kind) {
      n = rec;
      return;
    }
  }
  list.push_back(rec);
}

void object_destroyed(const void* obj) noexcept {
  {
    NameShard& s = shard_of(obj);
    WordLockGuard guard(s.lock);
    s.names.erase(obj);
  }
  order_forget(obj);  // also after lock-order checking was switched off
}

}  // namespace hook_impl
}  // namespace weft::detail
