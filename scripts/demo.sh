#!/usr/bin/env bash
# Builds weft (optimised) and runs the tour of the Python threading guide.
# Usage: scripts/demo.sh [LESSON ...] [--list] [--quick]   (no argument: every lesson)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release --target weft-demo -j "$(nproc)" >/dev/null
exec build/release/tools/weft-demo/weft-demo "$@"
