#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Wall time of test binaries at two builds, in interleaved rounds.

usage: bench/test_times.py BEFORE_BUILD AFTER_BUILD ROUNDS [--per-test FILE] BINARY...
Each round runs BUILD/tests/BINARY whole for every BINARY, before and after, the order
alternating from round to round (a binary missing from one build is run in the other
only). Prints a Markdown table: per binary, the median and the worst wall time of each
build, and the load averages. --per-test FILE writes every test's GoogleTest time per
round as JSON ({"BINARY|before|Suite.Test": [ms, ...]}), to sum groups of tests.
A failing binary is reported on stderr with its FAILED lines; its time still counts.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    args = sys.argv[1:]
    per_test_file = None
    if "--per-test" in args:
        i = args.index("--per-test")
        per_test_file = args[i + 1]
        del args[i:i + 2]
    before, after, rounds, binaries = args[0], args[1], int(args[2]), args[3:]
    wall, per_test, loads = {}, {}, [loadavg()]
    for r in range(rounds):
        for binary in binaries:
            order = [("before", before), ("after", after)]
            if r % 2:
                order.reverse()
            for label, build in order:
                path = os.path.join(build, "tests", binary)
                if not os.path.exists(path):
                    continue
                start = time.monotonic()
                run = subprocess.run([path], capture_output=True, text=True)
                wall.setdefault((binary, label), []).append(time.monotonic() - start)
                if run.returncode != 0:
                    failed = [l for l in run.stdout.splitlines() if "FAILED" in l]
                    print(f"{binary} ({label}) failed in round {r + 1}:", *failed,
                          sep="\n", file=sys.stderr)
                for m in re.finditer(r"\[       OK \] (\S+) \((\d+) ms\)", run.stdout):
                    per_test.setdefault(f"{binary}|{label}|{m.group(1)}", []).append(int(m.group(2)))
        loads.append(loadavg())
        print(f"round {r + 1}/{rounds}, load {loads[-1]}", file=sys.stderr, flush=True)
    print("Load averages (1, 5, 15 min) before the first round and after each:", "; ".join(loads))
    print("\n| binary | before: median (worst) s | after: median (worst) s |")
    print("|---|---:|---:|")
    for binary in binaries:
        cells = []
        for label in ("before", "after"):
            t = wall.get((binary, label))
            cells.append(f"{statistics.median(t):.2f} ({max(t):.2f})" if t else "-")
        print(f"| {binary} | {cells[0]} | {cells[1]} |")
    if per_test_file:
        with open(per_test_file, "w") as f:
            json.dump(per_test, f, indent=0)


if __name__ == "__main__":
    main()
