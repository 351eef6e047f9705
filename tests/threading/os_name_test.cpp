// SPDX-License-Identifier: Apache-2.0
// OS thread names: every weft::Thread, Timer, ThreadPoolExecutor worker and the process
// pool's dispatcher carries a name the OS shows (/proc/self/task/TID/comm: top -H, gdb,
// perf), cut to 15 bytes at a UTF-8 character boundary and kept in step with set_name.
#include <dirent.h>
#include <gtest/gtest.h>
#include <pthread.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "weft/barrier.hpp"
#include "weft/detail/thread_registry.hpp"
#include "weft/event.hpp"
#include "weft/futures.hpp"
#include "weft/process.hpp"
#include "weft/thread.hpp"
#include "weft/timer.hpp"

using namespace std::chrono_literals;

namespace {

// The OS name of thread `tid` of this process ("" if it does not exist).
std::string os_name(std::uint64_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

std::string os_name(const weft::Thread& t) {
  const auto tid = t.native_id();
  return tid ? os_name(*tid) : std::string("<not started>");
}

// The OS names of every thread of this process.
std::vector<std::string> all_os_names() {
  std::vector<std::string> names;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] != '.') names.push_back(os_name(std::stoull(e->d_name)));
    }
    ::closedir(dir);
  }
  return names;
}

// Opens the gate when the test leaves its scope, so a failed check never leaves a
// thread parked on it (the Thread's destructor then joins it).
struct OpenAtExit {
  weft::Event& gate;
  ~OpenAtExit() { gate.set(); }
};

TEST(OsThreadName, StartedThreadCarriesItsDefaultName) {
  weft::Event gate;
  weft::Thread t([&] { gate.wait(); });
  OpenAtExit open{gate};
  t.start();
  ASSERT_EQ(t.name().rfind("Thread-", 0), 0u) << t.name();
  EXPECT_EQ(os_name(t), t.name());
}

TEST(OsThreadName, StartedThreadCarriesTheNameItWasGiven) {
  weft::Event gate;
  weft::Thread t(weft::ThreadOptions{"crawler", false}, [&] { gate.wait(); });
  weft::Thread u([&] { gate.wait(); });
  OpenAtExit open{gate};
  u.set_name("renamed-early");  // before start(): the name it starts with
  t.start();
  u.start();
  EXPECT_EQ(os_name(t), "crawler");
  EXPECT_EQ(os_name(u), "renamed-early");
}

TEST(OsThreadName, SetNameFromOtherThreadsRenamesTheRunningThread) {
  weft::Event gate;
  weft::Thread t([&] { gate.wait(); });
  OpenAtExit open{gate};
  t.start();
  t.set_name("by-main");
  EXPECT_EQ(os_name(t), "by-main");
  weft::Thread renamer([&] { t.set_name("by-another"); });
  renamer.start();
  renamer.join();
  EXPECT_EQ(t.name(), "by-another");
  EXPECT_EQ(os_name(t), "by-another");
}

TEST(OsThreadName, SetNameOnTheThreadItself) {
  std::string seen;
  weft::Thread t([&] {
    weft::current_thread().set_name("self-named");
    seen = os_name(weft::get_native_id());
  });
  t.start();
  t.join();
  EXPECT_EQ(seen, "self-named");
}

TEST(OsThreadName, LongNamesAreCutToFifteenBytesOnTheOs) {
  weft::Event gate;
  weft::Thread t(weft::ThreadOptions{"a-rather-long-thread-name", false}, [&] { gate.wait(); });
  OpenAtExit open{gate};
  t.start();
  EXPECT_EQ(t.name(), "a-rather-long-thread-name");  // weft keeps the whole name
  EXPECT_EQ(os_name(t), "a-rather-long-t");
  t.set_name("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");  // 9 x é
  EXPECT_EQ(os_name(t), "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");  // 7 x é
}

TEST(OsThreadName, CutRule) {
  using weft::detail::os_thread_name;
  EXPECT_EQ(os_thread_name("MainThread"), "MainThread");
  EXPECT_EQ(os_thread_name("exactly-15-byte"), "exactly-15-byte");
  EXPECT_EQ(os_thread_name("abcdefghijklmnopqrstuvwxyz"), "abcdefghijklmno");
  EXPECT_EQ(os_thread_name(std::string("ab\0cd", 5)), "ab");  // the OS name ends at a NUL
  EXPECT_EQ(os_thread_name(""), "");
  // Never in the middle of a UTF-8 character: 2-, 3- and 4-byte characters at the cut.
  EXPECT_EQ(os_thread_name("abcdefghijklmn\xC3\xA9z"), "abcdefghijklmn");
  EXPECT_EQ(os_thread_name("abcdefghijklm\xE2\x82\xACx"), "abcdefghijklm");         // €
  EXPECT_EQ(os_thread_name("abcdefghijkl\xF0\x9F\x98\x80xyz"), "abcdefghijkl");      // 😀
  EXPECT_EQ(os_thread_name("abcdefghijk\xF0\x9F\x98\x80xyz"), "abcdefghijk\xF0\x9F\x98\x80");
  // A trailing number group (up to 7 bytes) survives, so pool workers stay apart.
  EXPECT_EQ(os_thread_name("ThreadPoolExecutor-0_3"), "ThreadPoolE-0_3");
  EXPECT_EQ(os_thread_name("ThreadPoolExecutor-12_345"), "ThreadPo-12_345");
  EXPECT_EQ(os_thread_name("a-rather-long-name-7"), "a-rather-long-7");
  EXPECT_EQ(os_thread_name("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9-1_2"),
            "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9-1_2");
  // A group longer than 7 bytes, or without a digit, is cut like any other text.
  EXPECT_EQ(os_thread_name("abcdefghijklmnop-12345678"), "abcdefghijklmno");
  EXPECT_EQ(os_thread_name("abcdefghijklmnop---"), "abcdefghijklmno");
}

TEST(OsThreadName, TimerThreadCarriesItsName) {
  weft::Event gate;
  weft::Timer t(0s, [&] { gate.wait(); });
  OpenAtExit open{gate};
  t.set_name("reminder");
  t.start();
  EXPECT_EQ(os_name(t), "reminder");
}

// Runs one task on each of the pool's two workers at once; returns each worker's
// (name, OS name).
std::set<std::pair<std::string, std::string>> two_workers(weft::ThreadPoolExecutor& pool) {
  weft::Barrier both(2);
  auto task = [&] {
    both.wait(60s);  // both tasks at once: two distinct workers (throws if broken)
    return std::pair{weft::current_thread().name(), os_name(weft::get_native_id())};
  };
  auto a = pool.submit(task);
  auto b = pool.submit(task);
  return {a.result(), b.result()};
}

TEST(OsThreadName, PoolWorkersArePrefixUnderscoreN) {
  weft::ThreadPoolExecutor pool(2, "fetch");
  const std::set<std::pair<std::string, std::string>> want{{"fetch_0", "fetch_0"},
                                                           {"fetch_1", "fetch_1"}};
  EXPECT_EQ(two_workers(pool), want);
}

TEST(OsThreadName, DefaultPoolWorkersStayApartOnTheOs) {
  weft::ThreadPoolExecutor pool(2);
  const auto seen = two_workers(pool);
  ASSERT_EQ(seen.size(), 2u);
  std::set<std::string> os_names;
  for (const auto& [name, os] : seen) {
    EXPECT_EQ(name.rfind("ThreadPoolExecutor-", 0), 0u) << name;
    EXPECT_EQ(os, weft::detail::os_thread_name(name));
    os_names.insert(os);
  }
  EXPECT_EQ(os_names.size(), 2u) << "two workers share one OS name";
}

TEST(OsThreadName, ThreadWeftDidNotStartKeepsItsOsNameUntilRenamed) {
  std::string before, after, weft_name;
  std::thread foreign([&] {
    ::pthread_setname_np(::pthread_self(), "foreign");
    weft_name = weft::current_thread().name();  // a Dummy-N entry
    before = os_name(weft::get_native_id());
    weft::current_thread().set_name("adopted");
    after = os_name(weft::get_native_id());
  });
  foreign.join();
  EXPECT_EQ(weft_name.rfind("Dummy-", 0), 0u) << weft_name;
  EXPECT_EQ(before, "foreign");
  EXPECT_EQ(after, "adopted");
}

TEST(OsThreadName, MainThreadIsRenamedOnlyOnRequest) {
  weft::Thread& main = weft::main_thread();
  ASSERT_TRUE(main.native_id());
  const std::string program = os_name(*main.native_id());
  EXPECT_NE(program, "MainThread");  // the program's name stays what ps and top show
  const std::string old = main.name();
  weft::Thread renamer([&] { main.set_name("main-renamed"); });
  renamer.start();
  renamer.join();
  EXPECT_EQ(os_name(*main.native_id()), "main-renamed");
  main.set_name(old);
  EXPECT_EQ(os_name(*main.native_id()), old);
  ::pthread_setname_np(::pthread_self(), program.c_str());  // gtest runs on the main thread
}

// set_name racing with the thread's own start and exit: never touches an exited
// thread (ASan/TSan builds check it) and the name always ends as the last set_name.
TEST(OsThreadName, SetNameRacesWithStartAndExit) {
  for (int i = 0; i < 50; ++i) {
    weft::Thread t([] {});
    weft::Thread renamer([&] {
      for (int k = 0; k < 20; ++k) t.set_name("race-" + std::to_string(k));
    });
    renamer.start();
    t.start();
    renamer.join();
    t.join();
    EXPECT_EQ(t.name(), "race-19");
  }
}

int plus_one(int x) { return x + 1; }

TEST(OsThreadName, ProcessPoolDispatcherIsNamed) {
  weft::ProcessPoolExecutor pool(1);
  ASSERT_EQ(pool.submit(plus_one, 1).result(), 2);
  int dispatchers = 0;
  for (const std::string& name : all_os_names())
    if (name.rfind("ProcessPool-", 0) == 0) ++dispatchers;
  EXPECT_EQ(dispatchers, 1);
}

}  // namespace
