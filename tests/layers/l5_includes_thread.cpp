// SPDX-License-Identifier: Apache-2.0
// The debug tools (L5) may include L0 and L1 headers, but not those of the primitives (L2).
// layer: weft_l5_debug
// expect-error: weft/thread.hpp: No such file
#include "weft/detail/parking_lot.hpp"
#include "weft/thread.hpp"
