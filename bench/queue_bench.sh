#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the queue benchmarks (C++ anchors + CPython's queue.Queue) and prints the queue
# tables of bench/RESULTS.md as Markdown, with ratios taken within this one run.
# Usage: bench/queue_bench.sh [min_time_seconds=0.1] [repetitions=3]
# Every C++ figure is the median of the repetitions.
# Builds bench/queue_bench.cpp in build/bench-queue (Release, anchors from Debian:
# scripts/install-deps.sh bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
min_time=${1:-0.1}
reps=${2:-3}
build="$root/build/bench-queue"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_BENCH=ON \
  -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_EXAMPLES=OFF -DWEFT_BUILD_TOOLS=OFF \
  -DWEFT_WERROR=OFF >/dev/null  # gcc 12 -O3 false positives (-Wrestrict) must not stop a bench
cmake --build "$build" --target weft_queue_bench -j 2 >/dev/null
out=$(mktemp -d)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$build/bench/weft_queue_bench" --benchmark_min_time="$min_time" \
  --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$out/cpp.json" >/dev/null
python3 "$root/bench/queue_bench.py" > "$out/python.jsonl"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$out/cpp.json" "$out/python.jsonl" "$load_before" "$load_after" "$reps" <<'PY'
import json, re, sys
cpp = json.load(open(sys.argv[1]))
rows = {}
for b in cpp["benchmarks"]:
    if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
        continue
    name = re.sub(r"/(min_time|iterations|repeats):[^/]*|/manual_time", "", b["run_name"])
    rows[name] = b
for line in open(sys.argv[2]):
    b = json.loads(line)
    rows[b["name"]] = b
ctx = cpp["context"]
print(f"Machine: {ctx.get('num_cpus')} CPUs @ {ctx.get('mhz_per_cpu')} MHz; load average "
      f"{sys.argv[3]} before, {sys.argv[4]} after; C++ figures are medians of "
      f"{sys.argv[5]} repetitions.\n")

def handoff_table(bound):
    title = "bounded(1024)" if bound else "unbounded"
    impls = []
    for name in rows:
        m = re.match(r"Handoff/(.*)/P:1/C:1/bound:%d$" % bound, name)
        if m:
            impls.append(m.group(1))
    print(f"### Hand-off, {title}: million items/s (ratio: weft::Queue / row)\n")
    shapes = [1, 2, 4, 16]
    print("| queue | " + " | ".join(f"{n}P{n}C" for n in shapes) + " |")
    print("|---|" + "---|" * len(shapes))
    def rate(impl, n):
        r = rows.get(f"Handoff/{impl}/P:{n}/C:{n}/bound:{bound}")
        return r["items_per_second"] if r else None
    for impl in impls:
        cells = []
        for n in shapes:
            r, w = rate(impl, n), rate("weft::Queue", n)
            if r is None:
                cells.append("-")
            elif impl == "weft::Queue":
                cells.append(f"**{r/1e6:.2f}**")
            else:
                cells.append(f"{r/1e6:.2f} ({w/r:.1f}x)")
        print(f"| {impl} | " + " | ".join(cells) + " |")
    w1, w16 = rate("weft::Queue", 1), rate("weft::Queue", 16)
    print(f"\nweft::Queue 16P16C keeps {100*w16/w1:.0f}% of its 1P1C throughput.\n")

handoff_table(1024)
handoff_table(0)
print("### Ping-pong round trip through two queues\n")
print("| queue | ns per round trip | x cache-line floor |")
print("|---|---|---|")
floor = rows["PingPong/AtomicSpin"]["ns_per_round_trip"] * 1e9 if "PingPong/AtomicSpin" in rows else None
for name, b in rows.items():
    if not name.startswith("PingPong/"):
        continue
    ns = b["ns_per_round_trip"]
    ns = ns * 1e9 if name != "PingPong/CPython queue.Queue" else ns
    ratio = f"{ns/floor:.1f}" if floor else "-"
    print(f"| {name[9:]} | {ns:.0f} | {ratio} |")
print("\n### Memory (1,000,000 queued ints)\n")
print("| queue | sizeof | heap when empty | bytes per queued int |")
print("|---|---|---|---|")
for name, b in rows.items():
    if name.startswith("Memory/"):
        print(f"| {name[7:]} | {b['sizeof']:.0f} | {b['empty_heap_bytes']:.0f} | {b['bytes_per_int']:.2f} |")
PY
rm -rf "$out"
