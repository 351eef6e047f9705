// SPDX-License-Identifier: Apache-2.0
// Future::request_stop: a running ThreadPoolExecutor task is stopped as a Thread is by
// request_stop (its blocking calls throw CancelledError, a std::stop_token task sees the
// request), a pending one starts stopped, a done one is left alone, and the stop of one
// task never reaches the next task its worker runs. On virtual time (testing::run).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <stop_token>
#include <vector>

#include "weft/cancel.hpp"
#include "weft/futures.hpp"
#include "weft/testing.hpp"

namespace {

using namespace std::chrono_literals;
using weft::CancelledError;

TEST(FutureStop, RunningTaskBlockedInSleepThrowsCancelledError) {
  weft::testing::run([] {
    weft::ThreadPoolExecutor pool(1);
    const auto t0 = weft::clock::now();
    weft::Future<int> f = pool.submit([] {
      weft::sleep(1h);
      return 1;
    });
    weft::testing::wait();  // the task is blocked in its sleep
    EXPECT_TRUE(f.running());
    EXPECT_TRUE(f.request_stop());
    EXPECT_THROW(f.result(), CancelledError);
    EXPECT_FALSE(f.cancelled()) << "cancelled() keeps Python's meaning (pending tasks)";
    EXPECT_FALSE(f.request_stop()) << "done";
    EXPECT_EQ(weft::clock::now() - t0, 0s);
  });
}

TEST(FutureStop, TaskTakingAStopTokenSeesTheRequest) {
  weft::testing::run([] {
    weft::ThreadPoolExecutor pool(1);
    weft::Future<int> f = pool.submit(
        [](std::stop_token token, int x) {
          while (!token.stop_requested()) {
            try {
              weft::sleep(1min);
            } catch (const CancelledError&) {
            }
          }
          return x * 2;
        },
        21);
    weft::testing::wait();
    EXPECT_TRUE(f.request_stop());
    EXPECT_EQ(f.result(), 42) << "the future holds what the task ended with";
  });
}

TEST(FutureStop, PendingTaskStartsStoppedAndTheNextTaskIsNotAffected) {
  weft::testing::run([] {
    weft::ThreadPoolExecutor pool(1);
    const auto t0 = weft::clock::now();
    weft::Future<void> first = pool.submit([] { weft::sleep(10s); });
    weft::Future<bool> second = pool.submit([](std::stop_token token) {
      EXPECT_TRUE(token.stop_requested());
      weft::sleep(1s);  // throws: the task starts stopped
      return true;
    });
    weft::Future<int> third = pool.submit([] {
      weft::sleep(1s);  // the stop of `second` does not leak into this task
      return 3;
    });
    EXPECT_TRUE(second.request_stop());
    EXPECT_FALSE(second.running());
    first.result();
    EXPECT_THROW(second.result(), CancelledError);
    EXPECT_EQ(third.result(), 3);
    EXPECT_EQ(weft::clock::now() - t0, 11s);
  });
}

TEST(FutureStop, CancelStillRemovesAPendingTask) {
  weft::testing::run([] {
    weft::ThreadPoolExecutor pool(1);
    weft::Future<void> first = pool.submit([] { weft::sleep(1s); });
    weft::Future<int> second = pool.submit([] { return 2; });
    EXPECT_TRUE(second.request_stop());
    EXPECT_TRUE(second.cancel());
    EXPECT_TRUE(second.cancelled());
    EXPECT_FALSE(second.request_stop());
    first.result();
  });
}

// Many tasks, every third stopped while it runs or waits: each stopped task ends with
// CancelledError or its value (a stop that came after its last blocking call), every
// other task with its value, and each exactly once.
TEST(FutureStop, RandomStopsWithExactAccounting) {
  static constexpr int kTasks = 3000;
  weft::testing::run([] {
    weft::ThreadPoolExecutor pool(4);
    std::atomic<int> ran{0};
    std::vector<weft::Future<int>> fs;
    fs.reserve(kTasks);
    for (int i = 0; i < kTasks; ++i) {
      fs.push_back(pool.submit([i, &ran] {
        ++ran;
        weft::sleep(std::chrono::milliseconds(1 + i % 7));
        return i;
      }));
    }
    int requested = 0;
    for (int i = 0; i < kTasks; i += 3) requested += fs[static_cast<std::size_t>(i)].request_stop();
    int values = 0, cancelled = 0;
    for (int i = 0; i < kTasks; ++i) {
      try {
        EXPECT_EQ(fs[static_cast<std::size_t>(i)].result(), i);
        ++values;
      } catch (const CancelledError&) {
        EXPECT_EQ(i % 3, 0) << "task " << i << " was never stopped";
        ++cancelled;
      }
    }
    EXPECT_EQ(values + cancelled, kTasks);
    EXPECT_EQ(ran.load(), kTasks);
    EXPECT_GT(cancelled, 0);
    std::printf("tasks %d: stop requested %d, cancelled %d, values %d\n", kTasks, requested,
                cancelled, values);
  });
}

}  // namespace
