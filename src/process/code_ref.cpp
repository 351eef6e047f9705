// SPDX-License-Identifier: Apache-2.0
// src/process/code_ref.cpp: finding functions in the loaded modules: the parent names an
// address (code_ref), a worker finds the address a name stands for (locate).
#include "process/code_ref.hpp"

#include <dlfcn.h>
#include <link.h>

#include <mutex>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "weft/errors.hpp"

namespace weft::detail {
namespace {

struct FindByAddress {
  std::uintptr_t address;
  std::optional<CodeRef> found;
};

int find_by_address(dl_phdr_info* info, std::size_t, void* data) {
  auto* q = static_cast<FindByAddress*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (q->address >= start && q->address < start + ph.p_memsz) {
      q->found = CodeRef{info->dlpi_name != nullptr ? info->dlpi_name : "",
                         q->address - info->dlpi_addr};
      return 1;
    }
  }
  return 0;
}

struct FindByName {
  const std::string* name;
  std::optional<std::uintptr_t> base;
};

int find_by_name(dl_phdr_info* info, std::size_t, void* data) {
  auto* q = static_cast<FindByName*>(data);
  const char* n = info->dlpi_name != nullptr ? info->dlpi_name : "";
  if (*q->name == n) {
    q->base = info->dlpi_addr;
    return 1;
  }
  return 0;
}

int note_module(dl_phdr_info* info, std::size_t, void* data) {
  static_cast<std::vector<std::pair<std::string, std::uintptr_t>>*>(data)->emplace_back(
      info->dlpi_name != nullptr ? info->dlpi_name : "", info->dlpi_addr);
  return 0;
}

// The fork server's modules (remember_loaded_modules); null elsewhere. Written once by
// the single-threaded server before its first clone, then only read.
const std::vector<std::pair<std::string, std::uintptr_t>>* known_modules = nullptr;

}  // namespace

void remember_loaded_modules() noexcept {
  try {
    auto* modules = new std::vector<std::pair<std::string, std::uintptr_t>>();
    dl_iterate_phdr(note_module, modules);
    known_modules = modules;  // kept for the process's life
  } catch (const std::bad_alloc&) {
  }
}

std::uintptr_t locate(const CodeRef& r) {
  if (known_modules != nullptr)
    for (const auto& [name, base] : *known_modules)
      if (name == r.module) return base + r.offset;
  FindByName q{&r.module, std::nullopt};
  dl_iterate_phdr(find_by_name, &q);
  if (!q.base && !r.module.empty()) {
    // Loaded at run time by the parent: load it here too (kept for the worker's life).
    if (dlopen(r.module.c_str(), RTLD_NOW | RTLD_GLOBAL) != nullptr) dl_iterate_phdr(find_by_name, &q);
  }
  if (!q.base) throw RuntimeError("weft worker: cannot find module '" + r.module + "'");
  return *q.base + r.offset;
}

// In the parent, cached: the module and offset of `address`.
CodeRef code_ref(std::uintptr_t address) {
  static std::mutex mu;
  static std::vector<std::pair<std::uintptr_t, CodeRef>> cache;
  {
    std::scoped_lock hold(mu);
    for (auto& [a, r] : cache)
      if (a == address) return r;
  }
  FindByAddress q{address, std::nullopt};
  dl_iterate_phdr(find_by_address, &q);
  if (!q.found) throw ValueError("weft::ProcessPoolExecutor: function address is in no loaded module");
  std::scoped_lock hold(mu);
  if (cache.size() < 256) cache.emplace_back(address, *q.found);
  return *q.found;
}

}  // namespace weft::detail
