// SPDX-License-Identifier: Apache-2.0
// Stress: exact accounting for ThreadPoolExecutor. Several submitters, cancellers and a
// shutdown(cancel_futures=true) race; afterwards every submitted task ran exactly once
// and its future finished, or it never ran and its future reports cancelled. Nested
// result() storms check that a pool whose tasks wait for each other cannot starve.
// Sized for a few seconds on 2 cores, smaller under ThreadSanitizer. Seeds are fixed.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "weft/detail/tsan.hpp"  // WEFT_TSAN: smaller runs under ThreadSanitizer
#include "weft/errors.hpp"
#include "weft/futures.hpp"

namespace {

#if defined(WEFT_TSAN)
constexpr int kScale = 3;
#else
constexpr int kScale = 24;
#endif

using weft::Future;
using weft::ThreadPoolExecutor;

struct Record {
  Future<int> future;
  int slot;
};

TEST(FuturesStress, SubmitCancelShutdownExactAccounting) {
  for (int round = 0; round < 4 * kScale; ++round) {
    constexpr int kSubmitters = 3;
    const int per_submitter = 600;
    auto runs = std::make_unique<std::atomic<int>[]>(kSubmitters * per_submitter);
    std::vector<std::vector<Record>> records(kSubmitters);
    ThreadPoolExecutor pool(static_cast<std::size_t>(1 + round % 4));
    if (round % 3 == 1) pool.set_max_pending(16);  // backpressure on some rounds
    std::atomic<int> started{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kSubmitters; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(round * 131 + t));
        for (int i = 0; i < per_submitter; ++i) {
          const int slot = t * per_submitter + i;
          try {
            Future<int> f = pool.submit(
                [&runs, slot] {
                  runs[slot].fetch_add(1, std::memory_order_relaxed);
                  return slot;
                });
            if (rng() % 4 == 0) f.cancel();
            records[static_cast<std::size_t>(t)].push_back(Record{f, slot});
          } catch (const weft::RuntimeError&) {
            break;  // shut down: later submits fail too
          }
          started.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    while (started.load(std::memory_order_relaxed) < kSubmitters * per_submitter / 3)
      std::this_thread::yield();
    pool.shutdown(true, true);
    for (auto& th : threads) th.join();

    int ran = 0, cancelled = 0, submitted = 0;
    std::vector<bool> recorded(kSubmitters * per_submitter, false);
    for (auto& rs : records) {
      for (Record& r : rs) {
        ++submitted;
        recorded[static_cast<std::size_t>(r.slot)] = true;
        ASSERT_TRUE(r.future.done()) << "slot " << r.slot << " neither ran nor was cancelled";
        const int n = runs[r.slot].load();
        if (r.future.cancelled()) {
          EXPECT_EQ(n, 0) << "slot " << r.slot << " ran but reports cancelled";
          ++cancelled;
        } else {
          EXPECT_EQ(n, 1) << "slot " << r.slot << " ran " << n << " times";
          EXPECT_EQ(r.future.result(), r.slot);
          ++ran;
        }
      }
    }
    for (int s = 0; s < kSubmitters * per_submitter; ++s) {
      if (!recorded[static_cast<std::size_t>(s)]) {
        EXPECT_EQ(runs[s].load(), 0) << s;
      }
    }
    EXPECT_EQ(ran + cancelled, submitted);
  }
}

TEST(FuturesStress, NestedResultStormDoesNotStarveThePool) {
  for (int round = 0; round < 2 * kScale; ++round) {
    ThreadPoolExecutor pool(static_cast<std::size_t>(1 + round % 3));
    // A binary tree of tasks, each waiting for its two children: with fewer workers
    // than waiting tasks, only spare threads standing in for the blocked workers (and,
    // past their bound, waiters running the child they await) complete it.
    std::function<long(int)> tree = [&](int depth) -> long {
      if (depth == 0) return 1;
      auto l = pool.submit(tree, depth - 1);
      auto r = pool.submit(tree, depth - 1);
      return l.result() + r.result() + 1;
    };
    EXPECT_EQ(pool.submit(tree, 9).result(), (1L << 10) - 1);
  }
}

TEST(FuturesStress, WaitAndAsCompletedUnderConcurrentCompletion) {
  for (int round = 0; round < 3 * kScale; ++round) {
    ThreadPoolExecutor pool(3);
    std::vector<Future<int>> fs;
    for (int i = 0; i < 300; ++i) fs.push_back(pool.submit([](int x) { return x; }, i));
    for (int i = 0; i < 300; i += 7) fs[static_cast<std::size_t>(i)].cancel();
    long sum = 0;
    int n = 0;
    for (auto& f : weft::as_completed(fs)) {
      ++n;
      if (!f.cancelled()) sum += f.result();
    }
    EXPECT_EQ(n, 300);
    auto r = weft::wait(fs);
    EXPECT_EQ(r.done.size(), 300u);
    long expect = 0;
    for (auto& f : fs)
      if (!f.cancelled()) expect += f.result();
    EXPECT_EQ(sum, expect);
  }
}

}  // namespace
