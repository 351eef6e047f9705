// SPDX-License-Identifier: Apache-2.0
// The parking lot (L1) may not include a private header of the debug tools (L5).
// layer: weft_l1_park
// expect-error: debug/state.hpp: No such file
#include "park/word_lock.hpp"
#include "debug/state.hpp"
