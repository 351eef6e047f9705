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
from bench_json import interleave, parse_args, table


def main():
    before, after, rounds, min_time = parse_args(__doc__)
    b, a = interleave("weft_vtime_bench", before, after, "outside/", rounds, min_time)
    for k, what in (("cpu_time", "CPU time"), ("real_time", "real time")):
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
