#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where the kernel ran weft's threads during some of weft_goals' groups (issue 12): which
# CPU each 1 us task ran on, migrations, context switches, and how long runnable threads
# waited for a CPU. Run it on a quiet machine, as root (perf sched reads the scheduler's
# tracepoints); it changes nothing and pins nothing.
#
# Usage: bench/placement.sh [GROUP_WORDS] [ROUNDS]
#   GROUP_WORDS  weft_goals --only words (default "tasks of": the 100k tasks of ~1 us,
#                TPE(2) and TPE() against one thread); e.g. "CPU-bound" for the process
#                pool, "ping-pong", "2P2C", "Lock".
#   ROUNDS       rounds per pass (default 5)
# Three passes of the same groups, output in $BUILD_DIR/placement/<time>/:
#   1. placement.md   weft_goals --placement: per round and pool, how many tasks each
#                     worker ran and on which CPUs (sched_getcpu() in every task).
#   2. perf-stat.txt  perf stat -e cpu-migrations,context-switches,task-clock over the run
#                     (task-clock / elapsed = CPUs kept busy).
#      proc-sched/    the last /proc/<pid>/task/<tid>/sched of each thread, sampled every
#                     0.2 s while it ran (nr_migrations, nr_involuntary_switches, ...).
#   3. sched.data     perf sched record of the run, summarised in
#      timehist-summary.txt  per thread: times scheduled in, run time, migrations;
#      latency.txt           per thread: average and worst delay between becoming
#                            runnable and running (time spent waiting for a CPU);
#      timehist-wakeups.txt  every switch, wake-up and migration of weft_goals' threads.
# QUICK=1 runs weft_goals --quick (tiny sizes: checks the script, measures nothing).
# How to read it: bench/RESULTS.md, "Thread placement (issue 12)". About 30 s for the
# default group; perf sched files grow by about 1 MB per second on a busy machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
words=${1:-tasks of}
rounds=${2:-5}
program=$("$root/bench/goals.sh" --build-only)
build=${BUILD_DIR:-$root/build/bench-run}
out=$build/placement/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out/proc-sched"
args=(--only "$words" --rounds "$rounds")
[ "${QUICK:-0}" = 1 ] && args+=(--quick)

echo "== 1/3 placement samples" >&2
"$program" "${args[@]}" --placement >"$out/placement.md"
grep -E '^- (warm-up|round)' "$out/placement.md" || true

if ! command -v perf >/dev/null; then
  echo "perf not found (Debian: linux-perf): passes 2 and 3 skipped; output in $out" >&2
  exit 0
fi

echo "== 2/3 perf stat and /proc/<pid>/sched" >&2
perf stat -e cpu-migrations,context-switches,task-clock -o "$out/perf-stat.txt" -- \
  "$program" "${args[@]}" >/dev/null &
runner=$!
# perf's child is the program; sample its threads' scheduler statistics while it runs.
while kill -0 "$runner" 2>/dev/null; do
  for pid in $(pgrep -P "$runner" 2>/dev/null); do
    for task in /proc/"$pid"/task/*; do
      [ -r "$task/sched" ] && cp "$task/sched" "$out/proc-sched/$(basename "$task")" 2>/dev/null || true
    done
  done
  sleep 0.2
done
wait "$runner" || true
cat "$out/perf-stat.txt"

echo "== 3/3 perf sched record" >&2
if perf sched record -o "$out/sched.data" -- "$program" "${args[@]}" >/dev/null 2>"$out/record.err"; then
  perf sched timehist -i "$out/sched.data" -s 2>/dev/null >"$out/timehist-summary.full.txt" || true
  # Keep the header and weft_goals' threads (its pool threads are named after the pool).
  grep -E 'comm|----|weft_goals|ThreadPool|ProcessPool|Runtime summary|Terminated|Idle|Total' \
    "$out/timehist-summary.full.txt" >"$out/timehist-summary.txt" || true
  perf sched latency -i "$out/sched.data" 2>/dev/null |
    grep -E 'Task|----|weft_goals|ThreadPool|ProcessPool|TOTAL' >"$out/latency.txt" || true
  perf sched timehist -i "$out/sched.data" -w -M 2>/dev/null |
    grep -E 'weft_goals|ThreadPool|ProcessPool' >"$out/timehist-wakeups.txt" || true
  cat "$out/timehist-summary.txt" "$out/latency.txt"
else
  echo "perf sched record failed (needs root or kernel.perf_event_paranoid <= -1):" >&2
  cat "$out/record.err" >&2
fi
echo "output: $out" >&2
