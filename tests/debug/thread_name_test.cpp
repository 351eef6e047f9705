// SPDX-License-Identifier: Apache-2.0
// One name per thread: the name a thread's record holds is the one every tool shows
// (Thread::name, the thread dump, the trace's track, the OS name), also after a rename
// and after the thread has ended; the main thread and dummy threads are named once, with
// the counter that numbers Thread-N.
// nlohmann-json trips gcc 12's -Wnull-dereference at -O3 (a false positive inside it).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wnull-dereference"
#endif
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "debug_fixture.hpp"
#include "trace_check.hpp"
#include "weft/event.hpp"
#include "weft/lock.hpp"
#include "weft/thread.hpp"

namespace weft::testing {
namespace {

using ThreadNames = DebugTest;

// The names of the trace's thread tracks.
std::set<std::string> trace_thread_names(const std::string& path) {
  EXPECT_TRUE(debug::write_trace());
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  std::remove(path.c_str());
  return check_trace(nlohmann::json::parse(buf.str())).thread_names;
}

std::string dump_text() {
  std::ostringstream out;
  debug::dump(out);
  return out.str();
}

TEST_F(ThreadNames, SetNameIsSeenByTheDumpTheTraceAndTheOs) {
  const std::string path = temp_path("weft_names_rename_");
  enable_trace(path);
  Event renamed;
  std::string os_name;
  Thread t(ThreadOptions{"before-rename"}, [&] {
    Lock lock("a lock");
    lock.acquire();  // a span on this thread's track
    lock.release();
    renamed.wait();
    char buf[16] = {};
    ::pthread_getname_np(::pthread_self(), buf, sizeof buf);
    os_name = buf;
  });
  t.start();
  t.set_name("after-rename");
  const std::string dump = dump_text();
  renamed.set();  // before any check: a failed check must not leave ~Thread waiting
  t.join();
  EXPECT_EQ(t.name(), "after-rename");
  EXPECT_EQ(os_name, "after-rename");
  EXPECT_NE(dump.find("\"after-rename\""), std::string::npos) << dump;
  EXPECT_EQ(dump.find("before-rename"), std::string::npos) << dump;
  // The thread has ended: its track keeps the name it had last.
  const auto names = trace_thread_names(path);
  EXPECT_EQ(names.count("after-rename"), 1u);
  EXPECT_EQ(names.count("before-rename"), 0u);
}

TEST_F(ThreadNames, ADummyThreadHasOneNameForEveryTool) {
  const std::string path = temp_path("weft_names_dummy_");
  enable_trace(path);
  std::string name;
  std::thread t([&] {
    Lock lock("a lock");
    lock.acquire();  // the debug tools meet this thread first,
    lock.release();
    name = current_thread().name();  // the registry second
  });
  t.join();
  ASSERT_EQ(name.rfind("Dummy-", 0), 0u) << name;
  // One counter for Thread-N and Dummy-N, as in Python: a later Thread takes a later number.
  const Thread later;
  const std::string later_name = later.name();
  ASSERT_EQ(later_name.rfind("Thread-", 0), 0u) << later_name;
  EXPECT_GT(std::stoull(later_name.substr(7)), std::stoull(name.substr(6)));
  // The ended thread's track has the name current_thread() gave it.
  EXPECT_EQ(trace_thread_names(path).count(name), 1u) << name;
}

TEST_F(ThreadNames, TheMainThreadIsMainThreadEverywhere) {
  const std::string path = temp_path("weft_names_main_");
  enable_trace(path);
  Lock lock("a lock");
  lock.acquire();
  lock.release();
  EXPECT_EQ(main_thread().name(), "MainThread");
  const std::string line = "\"MainThread\" (ident " + std::to_string(main_thread().ident().value());
  EXPECT_NE(dump_text().find(line), std::string::npos) << dump_text();
  EXPECT_EQ(trace_thread_names(path).count("MainThread"), 1u);
}

}  // namespace
}  // namespace weft::testing
