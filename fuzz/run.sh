#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the queue fuzzer with clang (+ AddressSanitizer and UBSan) and runs it for a
# bounded time. Usage: fuzz/run.sh [seconds=60] [extra libFuzzer args...]
# Exits non-zero if the fuzzer finds a mismatch with the model or a sanitizer error.
# fuzz/run.sh --build-only: builds it and stops.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
build="$root/build/fuzz"
# Line tables only: enough for the stack of a crash, and about a quarter cheaper to build than -g.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -gline-tables-only -DNDEBUG" \
  -DWEFT_BUILD_FUZZ=ON -DWEFT_BUILD_TESTS=OFF \
  -DWEFT_BUILD_EXAMPLES=OFF -DWEFT_BUILD_TOOLS=OFF -DWEFT_SANITIZE=address,undefined >/dev/null
cmake --build "$build" --target weft_queue_fuzz -j 2
[ "$seconds" = --build-only ] && exit 0
corpus="$build/queue_corpus"
mkdir -p "$corpus"
"$build/fuzz/weft_queue_fuzz" -max_total_time="$seconds" -max_len=512 -print_final_stats=1 \
  "$@" "$corpus"
