#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds weft and runs the whole test suite, the way CI does:
#   1. gcc, optimised: every test (unit, conformance, timeouts, stress, debug, tour, package:
#      the Debian packages and installed tree, docs: the API reference builds without warnings)
#   2. the same binaries with the portable wait backend forced (WEFT_WAIT_BACKEND=fallback)
#   3. the same binaries with lock-order checking on in throw mode (any false positive fails)
#      (2 and 3 skip the checks the environment cannot change: compiler-only tests, docs)
#   4. gcc + ThreadSanitizer          (4 and 5: not the compiler-only tests, run in 1)
#   5. gcc + AddressSanitizer + UndefinedBehaviorSanitizer
#   6. clang 14, warnings as errors, every test
#   7. the queue fuzzer (libFuzzer), for a bounded time
# Installs the Debian packages it needs first. Exits non-zero if anything failed.
# While one build's tests run, the next build compiles in the background at nice 19 (see
# prebuild below); a build step's time is what was left of it in the foreground.
# The full logs (builds, ctest, fuzzer) are kept in build/ci-report/. The output ends with a
# summary: each step's time, then per failed step the failed and timed-out tests (with the
# last lines of each one's output), and as its last line the sum of every run.
# Usage: scripts/test.sh [--fast]   (--fast: steps 1-3 only)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh test || exit 1

fast=0
[ "${1:-}" = "--fast" ] && fast=1
jobs=$(nproc)
passed=0
failed=0
broken=()
timings=()
report="$root/build/ci-report"
rm -rf "$report"
mkdir -p "$report"

step_name=""
step_start=$SECONDS
# step TEXT: starts a step (and closes the previous one's timing).
step() {
  step_end
  step_name=$*
  step_start=$SECONDS
  printf '\n=== %s (%s)\n' "$*" "$(date +%T)"
}
step_end() {
  [ -n "$step_name" ] && timings+=("$(printf '%5d s  %s' $((SECONDS - step_start)) "$step_name")")
  step_name=""
}

# Overlap: while one build's tests run, the next build compiles in the background at the
# lowest CPU priority (nice 19), so it takes only the CPU time the tests leave idle; a
# test's threads always win the CPU over it (the tests already pass beside CPU hogs of
# normal priority). The build step then waits for it and finishes what is left in the
# foreground; a failure there is reported as that build's failure.
declare -A background=()
# prebuild PRESET: starts PRESET's configure and build in the background (log: its build log).
prebuild() {
  local preset=$1
  { cmake --preset "$preset" && nice -n 19 cmake --build --preset "$preset" -j "$jobs"; } \
    >"$report/build-$preset.log" 2>&1 </dev/null &
  background[$preset]=$!
}
trap 'for pid in "${background[@]}"; do kill "$pid" 2>/dev/null; done' EXIT

# build PRESET [extra cmake args...]: configure and build; a failure counts as a failed step.
# The compiler's output goes to build/ci-report/build-PRESET.log; on failure the summary
# shows the first failed command and its errors.
build() {
  local preset=$1 log="$report/build-$1.log"
  shift
  if [ -n "${background[$preset]:-}" ]; then
    wait "${background[$preset]}" || true  # its failure, if any, shows again below
    unset "background[$preset]"
    echo "--- the foreground build (the background one ended at $(date +%T))" >>"$log"
  else
    : >"$log"
  fi
  if cmake --preset "$preset" "$@" >>"$log" 2>&1 && cmake --build --preset "$preset" -j "$jobs" >>"$log" 2>&1; then
    echo "built (log: $log)"
    return 0
  fi
  broken+=("build:$preset")
  echo "build:$preset FAILED (log: $log)"
  {
    echo "--- build:$preset: the first failure (full log: $log)"
    if grep -q '^FAILED:' "$log"; then
      sed -n '/^FAILED:/,$p' "$log" | head -n 40
    else
      tail -n 40 "$log"
    fi
  } >"$report/failure-build-$preset.txt"
  return 1
}

# tests NAME DIR [ctest args...]: runs ctest and adds its counts to the totals. The names of
# failed and timed-out tests go to the summary, each with the last lines of its output
# (from ctest's JUnit file).
tests() {
  local name=$1 dir=$2 log="$report/ctest-$1.log" junit="$report/ctest-$1.xml"
  shift 2
  ctest --test-dir "$dir" --output-on-failure --timeout 300 -j "$jobs" \
    --test-output-truncation middle --output-junit "$junit" "$@" 2>&1 | tee "$log"
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    broken+=("tests:$name")
    { echo "--- tests:$name: ctest gave no result; its last lines (full log: $log)"
      tail -n 30 "$log"; } >"$report/failure-tests-$name.txt"
    return
  fi
  local total fails
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  fails=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - fails))
  failed=$((failed + fails))
  [ "$fails" -eq 0 ] && return
  broken+=("tests:$name")
  # ctest's list: "<TAB>  12 - queue.Queue.Put (Failed)", also Timeout, Not Run, SEGFAULT...
  sed -n '/^The following tests FAILED:/,$p' "$log" | grep -E '^\s+[0-9]+ - ' |
    sed -E 's/^\s+[0-9]+ - //' >"$report/failed-$name.txt"
  python3 - "$junit" "$report/failed-$name.txt" "tests:$name" >"$report/failure-tests-$name.txt" <<'PY' ||
import re, sys, xml.etree.ElementTree as ET
junit, listed, step = sys.argv[1:4]
names = [re.sub(r' \([^()]*\)$', '', l.rstrip('\n')) for l in open(listed, encoding='utf-8', errors='replace')]
text = open(junit, encoding='utf-8', errors='replace').read()
# Test output can hold bytes XML does not allow (raw or as character references).
text = re.sub(r'[\x00-\x08\x0b\x0c\x0e-\x1f]', '?', text)
text = re.sub(r'&#(x0*[0-8bcefBCEF]|x0*1[0-9a-fA-F]|0*[0-8]|0*1[1-9]|0*2[0-9]|0*3[01]);', '?', text)
out = {c.get('name'): (c.findtext('system-out') or '') for c in ET.fromstring(text).iter('testcase')}
shown = 0
for name in names:
    if shown == 10:
        print(f'--- (output of the other {len(names) - shown} failed tests: {junit})')
        break
    lines = out.get(name, '').rstrip('\n').split('\n')
    print(f'--- {step}: {name}: last {min(30, len(lines))} of {len(lines)} lines of its output')
    print('\n'.join(lines[-30:]))
    shown += 1
PY
    echo "(could not read the failed tests' output from $junit; see $log)" >"$report/failure-tests-$name.txt"
}

# fuzz SECONDS: builds and runs the queue fuzzer; its output goes to build/ci-report/fuzz.log,
# only the verdict and its statistics are shown (and on failure the end of the output).
fuzz() {
  local log="$report/fuzz.log"
  if fuzz/run.sh "$1" >"$log" 2>&1; then
    grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::new_units_added)' "$log"
    echo "fuzzer: no crash, no mismatch (full output: $log)"
    return 0
  fi
  broken+=("fuzz")
  grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units)' "$log"
  echo "fuzzer: FAILED (full output: $log)"
  { echo "--- fuzz: the last 40 lines of its output (full output: $log)"
    grep -E 'Test unit written to|^SUMMARY: ' "$log"
    tail -n 40 "$log"; } >"$report/failure-fuzz.txt"
  return 1
}

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1

# The reruns of the release binaries skip what the environment cannot change: the tests that
# only run the compiler (label compile), the docs, licence, version and layering checks.
same_everywhere='compile|docs|license|version|layers'

step "gcc release: build"
build release; build_ok=$?
[ "$fast" -eq 0 ] && prebuild tsan
if [ "$build_ok" -eq 0 ]; then
  step "gcc release: tests"
  tests release build/release
  step "fallback wait backend: tests"
  WEFT_WAIT_BACKEND=fallback tests fallback build/release -LE "package|tour|$same_everywhere"
  step "lock-order checking, throw mode: tests"
  WEFT_DEBUG=lock-order WEFT_LOCK_ORDER_MODE=throw tests lock-order build/release \
    -LE "package|tour|debug|$same_everywhere"
fi

if [ "$fast" -eq 0 ]; then
  step "gcc ThreadSanitizer: build"
  build tsan; build_ok=$?
  prebuild asan-ubsan
  [ "$build_ok" -eq 0 ] && { step "ThreadSanitizer: tests"; tests tsan build/tsan -LE 'package|notsan|compile'; }
  step "gcc AddressSanitizer + UBSan: build"
  build asan-ubsan; build_ok=$?
  prebuild clang
  [ "$build_ok" -eq 0 ] && { step "ASan + UBSan: tests"; tests asan-ubsan build/asan-ubsan -LE 'package|compile'; }
  step "clang 14: build (warnings are errors)"
  build clang; build_ok=$?
  fuzz_build=""
  if [ -x fuzz/run.sh ]; then
    nice -n 19 fuzz/run.sh --build-only >"$report/fuzz-build.log" 2>&1 </dev/null &
    fuzz_build=$!
  fi
  [ "$build_ok" -eq 0 ] && { step "clang 14: tests"; tests clang build/clang -LE 'package|tour|stress'; }
  if [ -x fuzz/run.sh ]; then
    step "queue fuzzer (bounded time)"
    wait "$fuzz_build" || true  # fuzz/run.sh builds again below, in the foreground
    fuzz 30
  fi
fi
step_end

echo
echo "=== summary (full logs: $report)"
printf '%s\n' "${timings[@]}"
for f in "$report"/failure-*.txt; do
  [ -e "$f" ] || continue
  echo
  cat "$f"
done
for s in "${broken[@]}"; do
  f="$report/failed-${s#tests:}.txt"
  if [ "${s%%:*}" = tests ] && [ -s "$f" ]; then
    echo
    echo "$s: failed tests:"
    sed 's/^/  /' "$f"
  fi
done
echo
if [ ${#broken[@]} -ne 0 ]; then
  echo "failed steps: ${broken[*]}"
fi
echo "weft: $passed passed, $failed failed"
[ ${#broken[@]} -eq 0 ] && [ "$failed" -eq 0 ]
