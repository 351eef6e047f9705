#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Cancellation's cost and latency (issue 13): weft_cancel_bench of two builds, interleaved.

usage: bench/cancel_compare.py BEFORE_DIR AFTER_DIR ROUNDS MIN_TIME
Each round runs BEFORE_DIR/weft_cancel_bench (its fast/ cases: a build from before the
cancellation work has no others) and AFTER_DIR/weft_cancel_bench (every case), the order
alternating from round to round, one repetition of --benchmark_min_time each. Prints the
load averages; for the fast/ cases, as bench/vtime_compare.py does, the medians and the
median and worst after/before ratio over the rounds, in CPU time and in real time; for the
latency/ cases of the after build, per round the median and worst latency over its trials,
and over the rounds the median of the medians and the worst of the worsts.
"""
import statistics

from bench_json import interleave, parse_args, table


def main():
    before, after, rounds, min_time = parse_args(__doc__)
    b, a = interleave("weft_cancel_bench", before, after, "fast/", rounds, min_time)
    fast = [n for n in b[0] if n.startswith("fast/")]
    for key, what in (("cpu_time", "CPU time"), ("real_time", "real time")):
        print(f"\n{what}, ns per iteration (handoff: per item x 4096). Before / after "
              "(after ÷ before):")
        table("case", [(n, [x[n][key] for x in b], [x[n][key] for x in a]) for n in fast])
    latency = sorted({n for x in a for n in x if n.startswith("latency/")})
    print("\nLatency from the wake-up call to the woken thread running, µs "
          "(per round: median / worst of its trials):")
    print("\n| case | " + " | ".join(f"round {i + 1}" for i in range(rounds)) +
          " | median of medians | worst of worsts |")
    print("|---|" + "---:|" * (rounds + 2))
    for n in latency:
        rows = [x[n] for x in a if n in x]
        cells = [f"{x['median_us']:.0f} / {x['worst_us']:.0f}" for x in rows]
        print(f"| {n} | " + " | ".join(cells) +
              f" | {statistics.median(x['median_us'] for x in rows):.0f}"
              f" | {max(x['worst_us'] for x in rows):.0f} |")


if __name__ == "__main__":
    main()
