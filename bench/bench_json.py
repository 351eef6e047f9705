# SPDX-License-Identifier: Apache-2.0
"""Shared by the bench/*_compare.py scripts: run a Google Benchmark binary and read its
JSON records; run two builds of it in interleaved rounds; print ratio tables."""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile


def run(path, flt, min_time):
    """Runs the benchmark binary PATH (its cases matching FLT, one repetition of
    --benchmark_min_time=MIN_TIME). Returns name -> the case's JSON record, errors left
    out; the name without the suffixes that Google Benchmark appends for options
    (/iterations:N, /real_time, /manual_time, /process_time)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run([path, f"--benchmark_filter={flt}", f"--benchmark_min_time={min_time}",
                        f"--benchmark_out={f.name}", "--benchmark_out_format=json"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(f.name) as out:
            data = json.load(out)
    return {re.sub(r"/(iterations:\d+|real_time|manual_time|process_time)", "", b["name"]): b
            for b in data["benchmarks"] if not b.get("error_occurred")}


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def table(title, rows):
    """Prints a Markdown table: per (name, base values, other values) row, the medians and
    the median and worst (largest) other/base ratio over the rounds."""
    print(f"\n| {title} | median | median | ratio: median | ratio: worst round |")
    print("|---|---:|---:|---:|---:|")
    for name, base, other in rows:
        ratios = [o / b for b, o in zip(base, other)]
        print(f"| {name} | {statistics.median(base):.3g} | {statistics.median(other):.3g} | "
              f"{statistics.median(ratios):.3f} | {max(ratios):.3f} |")


def interleave(program, before, after, before_filter, rounds, min_time, after_filter="."):
    """Runs BEFORE/program (its cases matching before_filter) and AFTER/program (its cases
    matching after_filter: by default every case)
    in `rounds` rounds, the order alternating; prints the load averages. Returns the lists
    of per-round results (as run() returns them) of the two builds."""
    results = {"before": [], "after": []}
    loads = [loadavg()]
    for r in range(rounds):
        order = [("before", before, before_filter), ("after", after, after_filter)]
        if r % 2:
            order.reverse()
        for label, folder, flt in order:
            results[label].append(run(os.path.join(folder, program), flt, min_time))
        loads.append(loadavg())
        print(f"round {r + 1}/{rounds}, load {loads[-1]}", file=sys.stderr, flush=True)
    print("Load averages (1, 5, 15 min) before the first round and after each:",
          "; ".join(loads))
    return results["before"], results["after"]


def parse_args(usage):
    """BEFORE_DIR AFTER_DIR ROUNDS MIN_TIME from the command line; prints USAGE and exits
    on --help or a wrong count."""
    args = sys.argv[1:]
    if len(args) != 4 or "-h" in args or "--help" in args:
        print(usage, file=sys.stderr if len(args) != 4 else sys.stdout)
        sys.exit(0 if "-h" in args or "--help" in args else 2)
    return args[0], args[1], int(args[2]), args[3]
