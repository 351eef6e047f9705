#!/usr/bin/env bash
# Installs the Debian packages weft's build, tests, tools and benchmarks need.
# Usage: scripts/install-deps.sh [build|test|bench|all]   (default: test)
# Runs apt-get only when something is missing; needs root (or sudo) for that.
set -euo pipefail

what=${1:-test}
build=(cmake ninja-build g++ pkg-config python3)
test=("${build[@]}" clang libclang-rt-14-dev googletest libgtest-dev libbenchmark-dev
      libcli11-dev nlohmann-json3-dev libcpp-httplib-dev)
bench=("${test[@]}" libabsl-dev libtbb-dev libboost-thread-dev libconcurrentqueue-dev)
case "$what" in
  build) wanted=("${build[@]}" libcli11-dev nlohmann-json3-dev libcpp-httplib-dev) ;;
  test) wanted=("${test[@]}") ;;
  bench|all) wanted=("${bench[@]}") ;;
  *) echo "usage: $0 [build|test|bench|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
