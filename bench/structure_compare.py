#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Two builds of the same benchmark sources, in interleaved rounds (issue 10's before/after).

usage: bench/structure_compare.py BEFORE_DIR AFTER_DIR ROUNDS MIN_TIME [PROGRAM:FILTER ...]
For each PROGRAM:FILTER (default: the lock, event and queue benches' weft cases), each round
runs BEFORE_DIR/PROGRAM and AFTER_DIR/PROGRAM on the cases matching FILTER, the order
alternating from round to round, one repetition of --benchmark_min_time each. Prints a
Markdown table per program: per case, the medians of the real time and the median and
worst (largest) after/before ratio over the rounds (> 1: the after build is slower).
Both directories must hold builds of the same benchmark sources (to compare an old library,
copy today's bench sources into its tree first), or the cases do not correspond.
"""
import sys

from bench_json import interleave, table

DEFAULT = ["weft_lock_bench:weft", "weft_event_bench:weft",
           "weft_queue_bench:(Handoff|PingPong)/weft"]


def main():
    args = sys.argv[1:]
    if len(args) < 4 or "-h" in args or "--help" in args:
        print(__doc__, file=sys.stdout if "-h" in args or "--help" in args else sys.stderr)
        sys.exit(0 if "-h" in args or "--help" in args else 2)
    before, after, rounds, min_time = args[0], args[1], int(args[2]), args[3]
    for spec in args[4:] or DEFAULT:
        program, flt = spec.split(":", 1)
        b, a = interleave(program, before, after, flt, rounds, min_time, flt)
        names = [n for n in b[0] if all(n in x for x in b + a)]
        table(f"{program}: case, real time", [(n, [x[n]["real_time"] for x in b],
                                              [x[n]["real_time"] for x in a]) for n in names])


if __name__ == "__main__":
    main()
