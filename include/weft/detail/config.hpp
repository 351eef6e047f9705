// SPDX-License-Identifier: Apache-2.0
// weft/detail/config.hpp: compiler shims shared by every weft header.
//
// Not part of the public API: include <weft/weft.hpp> or a module header instead.
#pragma once

// weft needs C++20. An older standard stops the compiler here, with this message as the
// first error (the missing include below is fatal, so nothing after it is parsed). MSVC
// reports its standard in _MSVC_LANG; its __cplusplus says 199711L unless /Zc:__cplusplus.
#if defined(_MSVC_LANG) && _MSVC_LANG > __cplusplus
#define WEFT_CPLUSPLUS _MSVC_LANG
#else
#define WEFT_CPLUSPLUS __cplusplus
#endif
#if WEFT_CPLUSPLUS < 202002L
#error "weft needs C++20 or later: compile with -std=c++20 (or /std:c++20)"
#include <weft_needs_cxx20_see_the_error_above>  // stops the compilation
#endif

#include <cstdint>

#if defined(__GNUC__) || defined(__clang__)
#define WEFT_LIKELY(x) __builtin_expect(!!(x), 1)
#define WEFT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define WEFT_COLD __attribute__((cold, noinline))
#define WEFT_NOINLINE __attribute__((noinline))
#define WEFT_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define WEFT_LIKELY(x) (x)
#define WEFT_UNLIKELY(x) (x)
#define WEFT_COLD
#define WEFT_NOINLINE
#define WEFT_ALWAYS_INLINE inline
#endif

namespace weft::detail {

// The call site of a blocking or acquiring call, captured as a defaulted argument so
// that lock-order reports can name file:line. clang 14 with libstdc++ has no
// std::source_location; both gcc and clang evaluate these builtins at the caller.
struct SourceLoc {
  const char* file = "";
  unsigned line = 0;

  static constexpr SourceLoc current(const char* file = __builtin_FILE(),
                                     unsigned line = __builtin_LINE()) noexcept {
    return SourceLoc{file, line};
  }
};

}  // namespace weft::detail

