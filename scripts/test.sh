#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds weft and runs the whole test suite, the way CI does:
#   1. gcc, optimised: every test (unit, conformance, timeouts, stress, debug, tour, package:
#      the Debian packages and installed tree, docs: the API reference builds without warnings)
#   2. the same binaries with the portable wait backend forced (WEFT_WAIT_BACKEND=fallback)
#   3. the same binaries with lock-order checking on in throw mode (any false positive fails)
#   4. gcc + ThreadSanitizer
#   5. gcc + AddressSanitizer + UndefinedBehaviorSanitizer
#   6. clang 14, warnings as errors, every test
#   7. the queue fuzzer (libFuzzer), for a bounded time
# Installs the Debian packages it needs first. Exits non-zero if anything failed; the last
# line sums up every run. Usage: scripts/test.sh [--fast]   (--fast: steps 1-3 only)
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

step() { printf '\n=== %s (%s)\n' "$*" "$(date +%T)"; }

# build PRESET [extra cmake args...]: configure and build; a failure counts as a failed step.
build() {
  local preset=$1
  shift
  if ! cmake --preset "$preset" "$@" >/dev/null || ! cmake --build --preset "$preset" -j "$jobs"; then
    broken+=("build:$preset")
    return 1
  fi
}

# tests NAME DIR [ctest args...]: runs ctest and adds its counts to the totals.
tests() {
  local name=$1 dir=$2 log
  shift 2
  log=$(mktemp)
  ctest --test-dir "$dir" --output-on-failure --timeout 300 -j "$jobs" "$@" 2>&1 | tee "$log"
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    broken+=("tests:$name")
  else
    local total fails
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    fails=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    passed=$((passed + total - fails))
    failed=$((failed + fails))
    [ "$fails" -eq 0 ] || broken+=("tests:$name")
  fi
  rm -f "$log"
}

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1

step "gcc release: build"
if build release; then
  step "gcc release: tests"
  tests release build/release
  step "fallback wait backend: tests"
  WEFT_WAIT_BACKEND=fallback tests fallback build/release -LE 'package|tour'
  step "lock-order checking, throw mode: tests"
  WEFT_DEBUG=lock-order WEFT_LOCK_ORDER_MODE=throw tests lock-order build/release -LE 'package|tour|debug'
fi

if [ "$fast" -eq 0 ]; then
  step "gcc ThreadSanitizer: build"
  build tsan && { step "ThreadSanitizer: tests"; tests tsan build/tsan -LE 'package|notsan'; }
  step "gcc AddressSanitizer + UBSan: build"
  build asan-ubsan && { step "ASan + UBSan: tests"; tests asan-ubsan build/asan-ubsan -LE 'package'; }
  step "clang 14: build (warnings are errors)"
  build clang && { step "clang 14: tests"; tests clang build/clang -LE 'package|tour|stress'; }
  if [ -x fuzz/run.sh ]; then
    step "queue fuzzer (bounded time)"
    fuzz/run.sh 30 || broken+=("fuzz")
  fi
fi

echo
if [ ${#broken[@]} -ne 0 ]; then
  echo "failed steps: ${broken[*]}"
fi
echo "weft: $passed passed, $failed failed"
[ ${#broken[@]} -eq 0 ] && [ "$failed" -eq 0 ]
