// SPDX-License-Identifier: Apache-2.0
// bench/spin.hpp: the poll of a spinning benchmark thread (the ping-pong floors).
#pragma once

#include <cstdint>
#include <thread>

#include "weft/detail/backoff.hpp"

namespace bench {

// One poll of a spin-wait. Both threads of a spinning floor never sleep; on a machine
// with more runnable threads than cores a spinner may hold the core its partner needs,
// so it yields the core every 1024 polls (on an idle machine it never gets there).
inline void spin_poll(std::uint32_t& polls) {
  constexpr std::uint32_t kYieldEvery = 1024;
  if (++polls % kYieldEvery == 0) {
    std::this_thread::yield();
  } else {
    weft::detail::cpu_relax();
  }
}

}  // namespace bench
