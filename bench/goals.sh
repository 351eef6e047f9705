#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds weft_goals (Release) and runs issue 12's goals: every goal judged on the worst of
# interleaved rounds and on their median, each ratio against an anchor measured in the
# same round. The Markdown report goes to stdout and to $BUILD_DIR/goals/goals-<time>.md.
#
# Usage: bench/goals.sh [weft_goals options]      e.g. bench/goals.sh
#        bench/goals.sh --quick                    tiny sizes, a few seconds, nothing judged
#        bench/goals.sh --only queue,lock --rounds 7
#        bench/goals.sh --build-only               build, print the program's path, run nothing
# Full size, 5 rounds: about a minute on an idle 2-core machine (longer when busy rounds are
# repeated). Run it on a quiet machine: a goal measured while other processes used more
# than a quarter of a core says "not judged".
# Anchors come from Debian (scripts/install-deps.sh bench); a missing one makes its goals
# say "skipped: install PACKAGE". Environment: BUILD_DIR (default build/bench-run, the
# build of bench/run.sh), JOBS (default 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/bench-run}
jobs=${JOBS:-2}

# Warnings are checked by the test builds; a compiler false positive in an optimised
# build must not stop a measurement, hence WEFT_WERROR=OFF here.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_BENCH=ON \
  -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_EXAMPLES=OFF -DWEFT_BUILD_TOOLS=OFF -DWEFT_WERROR=OFF >/dev/null
cmake --build "$build" --target weft_goals -j "$jobs" >&2
program=$build/bench/weft_goals
if [ "${1:-}" = "--build-only" ]; then
  echo "$program"
  exit 0
fi

mkdir -p "$build/goals"
report=$build/goals/goals-$(date -u +%Y%m%d-%H%M%S).md
"$program" "$@" | tee "$report"
echo "report: $report" >&2
