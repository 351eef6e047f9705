#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds weft (optimised) and runs the tour of the Python threading guide.
# Usage: scripts/demo.sh [LESSON ...] [--list] [--quick]   (no argument: every lesson)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh build
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { cmake --preset release && cmake --build --preset release --target weft-demo -j "$(nproc)"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "scripts/demo.sh: the build failed (output above)" >&2
  exit 1
fi
build/release/tools/weft-demo/weft-demo "$@"
