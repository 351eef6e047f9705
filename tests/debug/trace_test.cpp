// SPDX-License-Identifier: Apache-2.0
// The timeline: a trace written by write_trace() is valid JSON in Chrome's trace-event
// format, one track per thread named by its Thread name, spans nested per thread,
// timestamps monotonic per thread, every flow paired, every string escaped.
// nlohmann-json trips gcc 12's -Wnull-dereference at -O3 (a false positive inside it).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wnull-dereference"
#endif
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "debug_fixture.hpp"
#include "support/blocking.hpp"
#include "trace_check.hpp"
#include "weft/lock.hpp"
#include "weft/queue.hpp"
#include "weft/thread.hpp"

namespace weft::testing {
namespace {

using Trace = DebugTest;
using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return json::parse(buf.str());  // throws on invalid JSON or invalid UTF-8
}

TEST_F(Trace, WritesWellFormedChromeTrace) {
  const std::string path = temp_path("weft_trace_");
  enable_trace(path);
  Lock lock("L");
  Queue<int> jobs(0, "jobs");
  {
    lock.acquire();
    Thread locker(ThreadOptions{"locker"}, [&] {
      lock.acquire();  // a wait span, then a hold span
      lock.release();
    });
    locker.start();
    // EXPECT, not ASSERT: returning with the lock held would hang in ~Thread's join.
    EXPECT_TRUE(wait_until_parked(*locker.ident()));
    lock.release();
    locker.join();
  }
  {
    Thread consumer(ThreadOptions{"consumer"}, [&] {
      for (int i = 0; i < 5; ++i) EXPECT_EQ(jobs.get(), i);
    });
    consumer.start();
    EXPECT_TRUE(wait_until_parked(*consumer.ident()));  // the first get waits (no early
                                                        // return: ~Thread would wait)
    Thread producer(ThreadOptions{"producer"}, [&] {
      for (int i = 0; i < 5; ++i) jobs.put(i);
    });
    producer.start();
    producer.join();
    consumer.join();
  }
  ASSERT_TRUE(debug::write_trace());
  const json trace = read_json(path);
  std::remove(path.c_str());

  const TraceSummary s = check_trace(trace);  // nesting, order, pairs (trace_check.hpp)
  for (const char* name : {"MainThread", "locker", "consumer", "producer"})
    EXPECT_EQ(s.thread_names.count(name), 1u) << name;
  EXPECT_GE(s.flows, 5u);
  EXPECT_GE(s.holds, 2u);
  bool lock_wait = false, queue_wait = false, depth = false;
  for (const auto& ev : trace["traceEvents"]) {
    if (ev.value("cat", "") == "wait" && ev["name"] == "wait Lock \"L\"") {
      lock_wait = true;
      EXPECT_NE(ev["args"]["site"].get<std::string>().find("trace_test.cpp:"), std::string::npos);
      EXPECT_EQ(s.thread_of_tid.at(ev["tid"].get<int>()), "locker");
    }
    if (ev.value("cat", "") == "wait" && ev["name"] == "wait Queue \"jobs\"") queue_wait = true;
    if (ev["ph"] == "C" && ev["name"] == "depth Queue \"jobs\"") depth = true;
  }
  EXPECT_TRUE(lock_wait);
  EXPECT_TRUE(queue_wait);
  EXPECT_TRUE(depth);
}

TEST_F(Trace, EscapesEveryString) {
  const std::string path = temp_path("weft_trace_escape_");
  enable_trace(path);
  const std::string evil = "q\"b\\n\nt\tc\x01 bad\xff é ✓";
  {
    Lock lock(evil);
    lock.acquire();
    lock.release();
    Thread t(ThreadOptions{evil}, [] {
      Lock inner("inner");
      inner.acquire();
      inner.release();
    });
    t.start();
    t.join();
  }
  ASSERT_TRUE(debug::write_trace());
  const json trace = read_json(path);
  std::remove(path.c_str());
  const std::string expected = "q\"b\\n\nt\tc\x01 bad\xEF\xBF\xBD é ✓";  // \xff -> U+FFFD
  bool hold = false, track = false;
  for (const auto& ev : trace["traceEvents"]) {
    if (ev["ph"] == "b" && ev["name"] == "hold Lock \"" + expected + "\"") hold = true;
    if (ev["ph"] == "M" && ev["name"] == "thread_name" && ev["args"]["name"] == expected) track = true;
  }
  EXPECT_TRUE(hold);
  EXPECT_TRUE(track);
  check_trace(trace);
}

TEST_F(Trace, FullBuffersKeepTheNewestEventsAndSaySo) {
  const std::string path = temp_path("weft_trace_full_");
  enable_trace(path, 64);
  Lock lock("busy");
  std::thread([&] {
    for (int i = 0; i < 1000; ++i) {
      lock.acquire();
      lock.release();
    }
  }).join();
  ASSERT_TRUE(debug::write_trace());
  const json trace = read_json(path);
  std::remove(path.c_str());
  EXPECT_GE(trace["otherData"]["dropped_events"].get<std::uint64_t>(), 1000u - 64u);
  std::size_t holds = 0;
  bool said = false;
  for (const auto& ev : trace["traceEvents"]) {
    if (ev["ph"] == "b") ++holds;
    if (ev["ph"] == "i" && ev["name"].get<std::string>().find("trace buffer full") == 0) said = true;
  }
  EXPECT_TRUE(said);
  EXPECT_LE(holds, 64u);
  check_trace(trace);
}

TEST_F(Trace, TaskSpansFromExecutorHooks) {
  const std::string path = temp_path("weft_trace_tasks_");
  enable_trace(path);
  int executor = 0;
  namespace hooks = detail::hooks;
  hooks::object_named(&executor, detail::ObjKind::executor, "pool");
  hooks::task_submitted(&executor, 41);
  std::thread([&] {
    hooks::task_begin(&executor, 41);
    Lock inside("inside");
    inside.acquire();
    inside.release();
    hooks::task_end(&executor, 41);
  }).join();
  ASSERT_TRUE(debug::write_trace());
  const json trace = read_json(path);
  std::remove(path.c_str());
  hooks::object_destroyed(&executor);
  bool task = false;
  for (const auto& ev : trace["traceEvents"]) {
    if (ev.value("cat", "") == "task") {
      task = true;
      EXPECT_EQ(ev["name"], "task #41");
      EXPECT_EQ(ev["args"]["executor"], "Executor \"pool\"");
      EXPECT_TRUE(ev["args"].contains("queue_wait_us"));
    }
  }
  EXPECT_TRUE(task);
  check_trace(trace);
}

}  // namespace
}  // namespace weft::testing
