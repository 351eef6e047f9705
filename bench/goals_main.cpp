// SPDX-License-Identifier: Apache-2.0
// weft_goals: issue 12's speed goals, each judged on the worst of interleaved rounds and
// on their median, every ratio against an anchor measured in the same round.
//
//   weft_goals [--quick] [--rounds N] [--only WORD[,WORD...]] [--placement] [--strict] [--list]
//
//   --quick      tiny sizes (seconds in all): proves the program builds and runs; nothing
//                is judged. The smoke test (ctest -L bench) runs this.
//   --rounds N   interleaved rounds (default 5).
//   --only       only the groups whose section (executor, process, queue, lock) or name
//                contains one of the words.
//   --placement  the executor's 1 us tasks record the CPU and worker each ran on
//                (sched_getcpu) and the report lists the split per round.
//   --strict     exit 1 if a judged goal is not met (default: 0 whatever the verdicts).
//   --list       print the groups and goals and exit.
// The report (Markdown) goes to stdout, progress to stderr. bench/goals.sh builds and runs it.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "goals.hpp"

int main(int argc, char** argv) {
  goals::Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "weft_goals: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--quick") {
      o.quick = true;
    } else if (arg == "--rounds") {
      o.rounds = std::atoi(value().c_str());
      if (o.rounds < 1) {
        std::fprintf(stderr, "weft_goals: --rounds must be at least 1\n");
        return 2;
      }
    } else if (arg == "--only") {
      std::stringstream words(value());
      for (std::string w; std::getline(words, w, ',');)
        if (!w.empty()) o.only.push_back(w);
    } else if (arg == "--placement") {
      o.placement = true;
    } else if (arg == "--strict") {
      o.strict = true;
    } else if (arg == "--list") {
      o.list = true;
    } else {
      std::fprintf(stderr,
                   "usage: weft_goals [--quick] [--rounds N] [--only WORD[,WORD...]] "
                   "[--placement] [--strict] [--list]\n");
      return 2;
    }
  }
  goals::Registry reg;
  goals::register_executor(reg, o);
  goals::register_queue(reg, o);
  goals::register_lock(reg, o);
  return reg.run(o);
}
