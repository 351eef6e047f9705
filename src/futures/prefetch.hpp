// SPDX-License-Identifier: Apache-2.0
// prefetch_for_write (L4 internals): asks for cache lines in a writable state without
// waiting for them, so that a thread about to write memory another core wrote last pays
// the transfer while it does other work. Touches no memory: the address may be freed
// meanwhile, and nothing is read or written through it.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace weft::detail {

// True if the CPU has PREFETCHW (CPUID 0x80000001, ECX bit 8).
inline bool cpu_has_prefetchw() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(0x80000001u, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1u << 8)) != 0;
#else
  return false;
#endif
}
inline const bool g_has_prefetchw = cpu_has_prefetchw();

// The cache lines of [p, p + lines * 64), starting at p's line.
inline void prefetch_lines_for_write(const void* p, std::size_t lines) noexcept {
  constexpr std::uintptr_t kLine = 64;
  std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p) & ~(kLine - 1);
#if defined(__x86_64__) || defined(__i386__)
  if (g_has_prefetchw) {
    for (std::size_t i = 0; i < lines; ++i, a += kLine)
      asm volatile("prefetchw %0" : : "m"(*reinterpret_cast<const char*>(a)));
    return;
  }
#endif
  for (std::size_t i = 0; i < lines; ++i, a += kLine)
    __builtin_prefetch(reinterpret_cast<const void*>(a), 1, 3);
}

}  // namespace weft::detail
