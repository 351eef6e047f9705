#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages weft's build, tests, tools and benchmarks need.
# Usage: scripts/install-deps.sh [build|test|bench|all]   (default: test)
# Runs apt-get only when something is missing; needs root (or sudo) for that.
set -euo pipefail

what=${1:-test}
build=(cmake ninja-build g++ pkg-config python3)
test=("${build[@]}" clang libclang-rt-14-dev googletest libgtest-dev libbenchmark-dev
      libcli11-dev nlohmann-json3-dev libcpp-httplib-dev redis-server libhiredis-dev
      doxygen dpkg-dev)  # the API reference test; cpack's DEB dependencies (dpkg-shlibdeps)
# The benchmarks' anchors (each optional: a bench whose anchor is missing skips it and says
# which package to install) and perf for bench/placement.sh.
bench=("${test[@]}" libabsl-dev libtbb-dev libboost-thread-dev libconcurrentqueue-dev libasio-dev
       libatomic-queue-dev linux-perf)
case "$what" in
  build) wanted=("${build[@]}" libcli11-dev nlohmann-json3-dev libcpp-httplib-dev libhiredis-dev) ;;
  test) wanted=("${test[@]}") ;;
  bench|all) wanted=("${bench[@]}") ;;
  *) echo "usage: $0 [build|test|bench|all]" >&2; exit 2 ;;
esac

# Optional: only one test needs it (weft-trace's page in headless Chromium), and it skips
# with a message when Chromium is missing, so a failed install does not stop the run.
optional=()
[ "$what" = build ] || optional=(chromium)

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
missing_optional=()
for p in "${optional[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing_optional+=("$p")
done
[ ${#missing[@]} -eq 0 ] && [ ${#missing_optional[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
if [ ${#missing[@]} -ne 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ${#missing_optional[@]} -ne 0 ]; then
  echo "installing (optional): ${missing_optional[*]}"
  $sudo apt-get install -y -qq --no-install-recommends "${missing_optional[@]}" >/dev/null ||
    echo "could not install ${missing_optional[*]}: the tests that need it will skip" >&2
fi
