// SPDX-License-Identifier: Apache-2.0
// weft/detail/link_debug_tools.hpp: links the debug tools (L5) into every program that uses
// weft, with the static library too.
//
// The layers below the tools call them only through a hook table (weft/detail/hooks.hpp)
// and never refer to them, so without a reference from the program the linker would leave
// them out, and WEFT_DEBUG / WEFT_TRACE would do nothing. Each translation unit that
// includes a header declaring something of the library (through weft/detail/deadline.hpp,
// weft/detail/hooks.hpp or weft/local.hpp) holds one pointer to link_debug_tools, which the
// tools' start-up code defines (src/debug/). Not in the library's own layers
// (WEFT_BUILDING_LIBRARY), which must not refer to a layer above them. Not part of the
// public API.
#pragma once

#if !defined(WEFT_BUILDING_LIBRARY) && (defined(__GNUC__) || defined(__clang__))
namespace weft::detail {
extern const char link_debug_tools;
[[maybe_unused]] __attribute__((used)) static const char* const link_debug_tools_ref =
    &link_debug_tools;
}  // namespace weft::detail
#endif
