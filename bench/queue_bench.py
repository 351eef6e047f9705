#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CPython's queue.Queue on the shapes of bench/queue_bench.cpp (same harness idea).

Prints one JSON object per line: {"name": ..., "items_per_second": ...} for the
hand-off shapes and {"name": ..., "ns_per_round_trip": ...} for the ping-pong.
Usage: python3 bench/queue_bench.py [items_per_shape]
"""
import json
import queue
import sys
import threading
import time

ITEMS = int(sys.argv[1]) if len(sys.argv) > 1 else 40000


def handoff(producers, consumers, maxsize):
    q = queue.Queue(maxsize)
    per_p = ITEMS // producers
    per_c = ITEMS // consumers
    go = threading.Event()

    def produce(p):
        go.wait()
        base = p * per_p
        for i in range(per_p):
            q.put(base + i)

    def consume():
        go.wait()
        for _ in range(per_c):
            q.get()

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    threads += [threading.Thread(target=consume) for _ in range(consumers)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    go.set()
    for t in threads:
        t.join()
    return ITEMS / (time.perf_counter() - start)


def ping_pong(round_trips=5000):
    there, back = queue.Queue(), queue.Queue()

    def echo():
        for _ in range(round_trips):
            back.put(there.get())

    t = threading.Thread(target=echo)
    t.start()
    start = time.perf_counter()
    for i in range(round_trips):
        there.put(i)
        back.get()
    elapsed = time.perf_counter() - start
    t.join()
    return elapsed / round_trips * 1e9


def main():
    for bound in (1024, 0):
        for n in (1, 2, 4, 16):
            rate = handoff(n, n, bound)
            print(json.dumps({"name": f"Handoff/CPython queue.Queue/P:{n}/C:{n}/bound:{bound}",
                              "items_per_second": rate}), flush=True)
    print(json.dumps({"name": "PingPong/CPython queue.Queue",
                      "ns_per_round_trip": ping_pong()}), flush=True)


if __name__ == "__main__":
    main()
