// weft/detail/config.hpp: compiler shims shared by every weft header.
//
// Not part of the public API: include <weft/weft.hpp> or a module header instead.
#pragma once

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
