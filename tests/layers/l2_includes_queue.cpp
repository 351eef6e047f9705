// SPDX-License-Identifier: Apache-2.0
// L2 (threading) code may include L2 and lower headers, but not a queue's (L3).
// layer: weft_l2_threading
// expect-error: weft/queue.hpp: No such file
#include "weft/lock.hpp"
#include "weft/queue.hpp"
