// SPDX-License-Identifier: Apache-2.0
// weft/detail/assert.hpp: WEFT_ASSERT, a check of weft's own invariants.
//
// WEFT_ASSERT(cond) states something that holds unless weft itself has a bug (never a
// check of user input: misuse gets an exception). When WEFT_ENABLE_ASSERTS is defined
// (the debug, tsan and asan-ubsan presets set it through the CMake option WEFT_ASSERTS)
// a false condition prints "file:line: weft invariant violated: cond" to stderr and
// aborts. Otherwise the condition is not evaluated and costs nothing. Not part of the
// public API.
#pragma once

#include "weft/detail/config.hpp"

#if defined(WEFT_ENABLE_ASSERTS)
#include <cstdio>
#include <cstdlib>

namespace weft::detail {
[[noreturn]] WEFT_COLD inline void assert_failed(const char* condition, const char* file,
                                                 unsigned line) noexcept {
  std::fprintf(stderr, "%s:%u: weft invariant violated: %s\n", file, line, condition);
  std::fflush(stderr);
  std::abort();
}
}  // namespace weft::detail

#define WEFT_ASSERT(cond) \
  (WEFT_LIKELY(cond) ? static_cast<void>(0) : ::weft::detail::assert_failed(#cond, __FILE__, __LINE__))
#else
// sizeof keeps the condition compiled (names stay checked) but never evaluated.
#define WEFT_ASSERT(cond) static_cast<void>(sizeof(static_cast<bool>(cond)))
#endif
