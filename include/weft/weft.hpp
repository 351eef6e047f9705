// SPDX-License-Identifier: Apache-2.0
// weft/weft.hpp: all of weft: threading, queue, concurrent.futures, processes, debug, version.
#pragma once

#include "weft/cancel.hpp"
#include "weft/debug.hpp"
#include "weft/errors.hpp"
#include "weft/futures.hpp"
#include "weft/process.hpp"
#include "weft/queue.hpp"
#include "weft/threading.hpp"
#include "weft/version.hpp"
