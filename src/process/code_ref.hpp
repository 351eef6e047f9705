// SPDX-License-Identifier: Apache-2.0
// src/process/code_ref.hpp: naming a function across processes, private to src/process.
//
// A CodeRef names an address by the loaded module (executable or shared object) that
// holds it and the offset in that module, so that a worker, which runs the same program,
// finds the same function even where the modules are loaded at other addresses.
#pragma once

#include <cstdint>
#include <string>

#include "weft/process.hpp"

namespace weft {

template <>
struct codec<detail::CodeRef> {
  static void encode(WireWriter& w, const detail::CodeRef& r) {
    w.write(r.module);
    w.write(r.offset);
  }
  static detail::CodeRef decode(WireReader& r) {
    detail::CodeRef c;
    c.module = r.read<std::string>();
    c.offset = r.read<std::uint64_t>();
    return c;
  }
};

namespace detail {

// In a worker: the address that `r` names in this process. A module the parent loaded
// at run time is loaded here too (and kept for the worker's life). Throws RuntimeError
// when the module cannot be found.
std::uintptr_t locate(const CodeRef& r);

// In the fork server, before it serves requests: notes the modules loaded now and where,
// so that its clones find them without walking the dynamic linker's list (which would
// touch pages a new process has not touched yet: each costs it a page fault). Without
// memory, nothing is noted and locate() walks the list.
void remember_loaded_modules() noexcept;

}  // namespace detail
}  // namespace weft
