// SPDX-License-Identifier: Apache-2.0
// weft/futures.hpp: Future, ThreadPoolExecutor, wait, as_completed.
//                                                      (Python: concurrent.futures)
//
// Design: docs/design.md (L4 executors). The shared state is in
// weft/detail/future_state.hpp; the pool's out-of-line core in src/futures/.
// The parts, one job each (include this header, not them):
//   weft/detail/future_handle.hpp         Future<R> and std::hash<Future<R>>
//   weft/detail/map_results.hpp           map() of every executor
//   weft/detail/thread_pool_executor.hpp  ThreadPoolExecutor
//   weft/detail/future_waits.hpp          ReturnWhen, DoneAndNotDone, wait, as_completed
#pragma once

#include "weft/detail/future_handle.hpp"
#include "weft/detail/future_waits.hpp"
#include "weft/detail/map_results.hpp"
#include "weft/detail/thread_pool_executor.hpp"
