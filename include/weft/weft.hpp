// weft/weft.hpp: all of weft: threading, queue, concurrent.futures, processes, debug.
#pragma once

#include "weft/errors.hpp"
#include "weft/threading.hpp"

#if __has_include("weft/queue.hpp")
#include "weft/queue.hpp"
#endif
#if __has_include("weft/futures.hpp")
#include "weft/futures.hpp"
#endif
#if __has_include("weft/process.hpp")
#include "weft/process.hpp"
#endif
#if __has_include("weft/debug.hpp")
#include "weft/debug.hpp"
#endif
