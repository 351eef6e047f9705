#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Virtual time's cost (issue 14): weft_vtime_bench of two builds, in interleaved rounds.

usage: bench/vtime_compare.py BEFORE_DIR AFTER_DIR ROUNDS MIN_TIME
Each round runs BEFORE_DIR/weft_vtime_bench (its outside/ cases: a build without virtual
time has no others) and AFTER_DIR/weft_vtime_bench (every case), the order alternating
from round to round, one repetition of --benchmark_min_time each. Prints Markdown tables,
for CPU time and for real time: per case, the medians and the median and worst (largest)
after/before ratio over the rounds; in the after build, inside/outside a bubble; and in
each build weft::clock::now() against steady_clock::now().
On a loaded machine the CPU time is the meaningful column (real time includes the time a
thread waited for a core); the load averages are printed too.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile


def run(path, flt, min_time):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run([path, f"--benchmark_filter={flt}", f"--benchmark_min_time={min_time}",
                        f"--benchmark_out={f.name}", "--benchmark_out_format=json"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(f.name) as out:
            data = json.load(out)
    return {b["name"].replace("/real_time", ""): (b["cpu_time"], b["real_time"])
            for b in data["benchmarks"]}


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def table(title, rows):
    print(f"\n| {title} | median | median | ratio: median | ratio: worst round |")
    print("|---|---:|---:|---:|---:|")
    for name, base, other in rows:
        ratios = [o / b for b, o in zip(base, other)]
        print(f"| {name} | {statistics.median(base):.3g} | {statistics.median(other):.3g} | "
              f"{statistics.median(ratios):.3f} | {max(ratios):.3f} |")


def interleave(program, before, after, before_filter, rounds, min_time, run=run):
    """Runs BEFORE/program (its cases matching before_filter) and AFTER/program (every case)
    in `rounds` rounds, the order alternating; prints the load averages. Returns the lists
    of per-round results of the two builds."""
    results = {"before": [], "after": []}
    loads = [loadavg()]
    for r in range(rounds):
        order = [("before", before, before_filter), ("after", after, ".")]
        if r % 2:
            order.reverse()
        for label, folder, flt in order:
            results[label].append(run(os.path.join(folder, program), flt, min_time))
        loads.append(loadavg())
        print(f"round {r + 1}/{rounds}, load {loads[-1]}", file=sys.stderr, flush=True)
    print("Load averages (1, 5, 15 min) before the first round and after each:",
          "; ".join(loads))
    return results["before"], results["after"]


def main():
    before, after, rounds, min_time = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    b, a = interleave("weft_vtime_bench", before, after, "outside/", rounds, min_time)
    for k, what in ((0, "CPU time"), (1, "real time")):
        print(f"\n{what}, ns per iteration. Before / after (after ÷ before):")
        table("case", [(n, [x[n][k] for x in b], [x[n][k] for x in a]) for n in b[0]])
        print(f"\n{what}, ns per iteration, the after build. Outside / inside a bubble "
              "(inside ÷ outside):")
        table("case", [(n[len("inside/"):], [x["outside/" + n[len("inside/"):]][k] for x in a],
                        [x[n][k] for x in a]) for n in a[0] if n.startswith("inside/")])
        print(f"\n{what}, ns per iteration. weft::clock::now() / steady_clock::now() in the "
              "same binary (weft::clock ÷ steady_clock):")
        table("build", [(label, [x["outside/steady_clock"][k] for x in runs],
                         [x["outside/clock"][k] for x in runs])
                        for label, runs in (("before", b), ("after", a))])


if __name__ == "__main__":
    main()
