// SPDX-License-Identifier: Apache-2.0
// The short examples of docs/testing.md, compiled and run. Each block of the document
// marked `<!-- example: tests/testing/docs_examples_test.cpp -->` must appear here
// verbatim (scripts/check_doc_examples.py, test docs.examples); the longer fetcher
// example is tests/testing/fetcher_test.cpp.
#include <gtest/gtest.h>

#include <chrono>

#include "weft/queue.hpp"
#include "weft/testing.hpp"
#include "weft/thread.hpp"
#include "weft/timer.hpp"

using namespace std::chrono_literals;

namespace {

TEST(TestingDocs, TenMinuteTimer) {
  weft::testing::run([] {
    const auto begin = weft::clock::now();
    bool fired = false;
    weft::Timer timer(10min, [&] { fired = true; });
    timer.start();
    timer.join();                                     // returns at once, in real time
    EXPECT_TRUE(fired);
    EXPECT_EQ(weft::clock::now() - begin, 10min);  // exactly, in every run
  });
}

TEST(TestingDocs, WaitForTheOtherThreads) {
  weft::testing::run([] {
    weft::Queue<int> in, out;
    weft::Thread worker([&] { out.put(in.get() * 2); });
    worker.start();
    weft::testing::wait();  // the worker is blocked in in.get()
    EXPECT_TRUE(out.empty());
    in.put(21);
    weft::testing::wait();  // the worker has put its answer and ended
    EXPECT_EQ(out.get_nowait(), 42);
    worker.join();
  });
}

}  // namespace
