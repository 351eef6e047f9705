// SPDX-License-Identifier: Apache-2.0
// bench/goals.hpp: the sections of weft_goals (bench/goals_main.cpp), each registering its
// groups of measurements and its goals with the harness.
#pragma once

#include "goals_harness.hpp"

namespace goals {

void register_executor(Registry& reg, const Options& o);  // sections executor, process
void register_queue(Registry& reg, const Options& o);     // section queue
void register_lock(Registry& reg, const Options& o);      // section lock

}  // namespace goals
