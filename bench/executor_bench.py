#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CPython on the workloads of bench/executor_bench.cpp (the anchors weft mirrors).

    python3 bench/executor_bench.py            # prints one line per workload

EmptyTasks: submit N empty tasks to concurrent.futures.ThreadPoolExecutor, then wait
for every future (N = 100,000; the rate is comparable to the C++ 1M run).
GilSum: the guide's gil_demo.py cpu_bound_task(n // 4) on 4 processes with
multiprocessing.Pool (start and stop included) vs 4 threads and vs 1 thread.
ProcessRoundTrip: one small task to a warm one-process multiprocessing.Pool.
"""
import concurrent.futures
import multiprocessing
import os
import threading
import time


def empty():
    pass


def cpu_bound_task(n):
    count = 0
    for i in range(n):
        count += i * i
    return count


def small_task(x):
    return x + 1


def bench(label, seconds, items=None):
    rate = f"  {items / seconds / 1e3:9.1f} k items/s" if items else ""
    print(f"{label:<44} {seconds * 1e3:10.1f} ms{rate}", flush=True)


def main():
    workers = min(32, (os.cpu_count() or 1) + 4)

    n = 100_000
    with concurrent.futures.ThreadPoolExecutor() as pool:
        pool.submit(empty).result()
        start = time.perf_counter()
        fs = [pool.submit(empty) for _ in range(n)]
        for f in fs:
            f.result()
        bench(f"EmptyTasks ThreadPoolExecutor({workers}) 100k", time.perf_counter() - start, n)

    for gil_n in (10_000_000,):
        start = time.perf_counter()
        cpu_bound_task(gil_n)
        bench(f"GilSum single thread n={gil_n:,}", time.perf_counter() - start)

        start = time.perf_counter()
        ts = [threading.Thread(target=cpu_bound_task, args=(gil_n // 4,)) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        bench(f"GilSum 4 threads n={gil_n:,}", time.perf_counter() - start)

        start = time.perf_counter()
        with multiprocessing.Pool(4) as p:
            p.map(cpu_bound_task, [gil_n // 4] * 4)
        bench(f"GilSum multiprocessing.Pool(4) n={gil_n:,}", time.perf_counter() - start)

    with multiprocessing.Pool(1) as p:
        p.apply(small_task, (0,))
        rounds = 2000
        start = time.perf_counter()
        x = 0
        for _ in range(rounds):
            x = p.apply(small_task, (x,))
        elapsed = time.perf_counter() - start
        print(f"{'ProcessRoundTrip multiprocessing.Pool(1)':<44} {elapsed / rounds * 1e6:10.1f} us",
              flush=True)

    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        pool.submit(small_task, 0).result()
        rounds = 2000
        start = time.perf_counter()
        x = 0
        for _ in range(rounds):
            x = pool.submit(small_task, x).result()
        elapsed = time.perf_counter() - start
        print(f"{'ProcessRoundTrip ProcessPoolExecutor(1)':<44} {elapsed / rounds * 1e6:10.1f} us",
              flush=True)


if __name__ == "__main__":
    main()
