// SPDX-License-Identifier: Apache-2.0
// The thread dump and the deadlock watchdog. The real deadlock runs in a death-test
// child (a fresh process), whose report handler writes the dump to a file and exits:
// the deadlocked threads never need to be woken.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <latch>
#include <sstream>

#include "debug_fixture.hpp"
#include "support/blocking.hpp"
#include "weft/lock.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::testing {
namespace {

constexpr const char* kFile = "deadlock_test.cpp";

using Dump = DebugTest;

TEST_F(Dump, ShowsWhatABlockedThreadWaitsOnAndWhoHoldsIt) {
  lock_order();  // held locks are tracked while any tool is on
  Lock lock("table");
  unsigned held_at = 0, waits_at = 0;
  held_at = __LINE__; lock.acquire();
  std::atomic<std::uint64_t> ident{0};
  std::thread waiter([&] {
    detail::hooks::thread_started("waiter");
    ident = detail::current_ident();
    waits_at = __LINE__; lock.acquire();
    lock.release();
    detail::hooks::thread_finished();
  });
  while (ident.load() == 0) std::this_thread::yield();
  // EXPECT, not ASSERT: returning here would leave `waiter` joinable (std::terminate).
  EXPECT_TRUE(wait_until_parked(ident.load()));
  std::ostringstream out;
  debug::dump(out);
  lock.release();
  waiter.join();
  const std::string text = out.str();
  EXPECT_TRUE(contains(text, "weft thread dump")) << text;
  EXPECT_TRUE(contains(text, "\"waiter\"")) << text;
  EXPECT_TRUE(contains(text, "waits on Lock \"table\"")) << text;
  EXPECT_TRUE(contains(text, "at " + site(kFile, waits_at) + " (no timeout), held by \"MainThread\""))
      << text;
  EXPECT_TRUE(contains(text, "holds Lock \"table\"")) << text;
  EXPECT_TRUE(contains(text, "acquired at " + site(kFile, held_at))) << text;
  EXPECT_FALSE(contains(text, "deadlock:")) << text;
}

// ---- a real deadlock of three threads, in a child process ----

// The parent picks the file; the death-test child (a re-run of this program) inherits it
// through the environment.
std::string dump_path() {
  if (const char* p = std::getenv("WEFT_TEST_DUMP_PATH")) return p;
  const std::string path =
      ::testing::TempDir() + "weft_deadlock_dump_" + std::to_string(::getpid()) + ".txt";
  ::setenv("WEFT_TEST_DUMP_PATH", path.c_str(), 1);
  return path;
}

// The lines the dump must name (each function on the line of its constant).
constexpr unsigned kHoldLine = __LINE__; void hold(Lock& l) { l.acquire(); }
constexpr unsigned kWaitLine = __LINE__; void block_on(Lock& l) { l.acquire(); }

[[noreturn]] void deadlock_three_threads(const std::string& path) {
  debug::set_report_handler([path](std::string_view kind, std::string_view text) {
    if (kind != "deadlock") return;
    std::ofstream(path) << text;
    std::_Exit(3);
  });
  // Under WEFT_DEBUG=lock-order in throw mode the third acquisition would throw (it
  // closes the cycle): this test wants the deadlock itself.
  debug::set_lock_order_mode(debug::Mode::report);
  debug::Options o;
  o.deadlock = true;
  o.watchdog_interval = std::chrono::milliseconds(10);
  debug::enable(o);
  static Lock a("A"), b("B"), c("C");
  static std::latch all_hold(3);
  Lock* locks[3] = {&a, &b, &c};
  const char* names[3] = {"T1", "T2", "T3"};
  for (int i = 0; i < 3; ++i) {
    std::thread([=] {
      detail::hooks::thread_started(names[i]);
      Lock& mine = *locks[i];
      Lock& next = *locks[(i + 1) % 3];
      hold(mine);
      all_hold.arrive_and_wait();
      block_on(next);  // never returns
    }).detach();
  }
  // Only if the watchdog never reports: give up (the parent then sees exit code 1).
  // Generous: a loaded machine may run the 10 ms watchdog late.
  std::this_thread::sleep_for(std::chrono::seconds(60));
  std::_Exit(1);
}

TEST(Deadlock, ThreeThreadCycleIsDumpedOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string path = dump_path();
  std::remove(path.c_str());
  // Exit code 3: the watchdog reported the cycle (the child's report handler exits).
  EXPECT_EXIT(deadlock_three_threads(path), ::testing::ExitedWithCode(3), "");
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  std::remove(path.c_str());
  ::unsetenv("WEFT_TEST_DUMP_PATH");
  ASSERT_FALSE(text.empty()) << "the child wrote no dump";
  EXPECT_TRUE(contains(text, "deadlock: a wait-for cycle of 3 thread(s)")) << text;
  for (const char* t : {"T1", "T2", "T3"}) EXPECT_TRUE(contains(text, std::string("\"") + t + "\"")) << text;
  EXPECT_TRUE(contains(text, "\"T1\" waits on Lock \"B\"")) << text;
  EXPECT_TRUE(contains(text, "held by \"T2\"")) << text;
  EXPECT_TRUE(contains(text, "\"T2\" waits on Lock \"C\"")) << text;
  EXPECT_TRUE(contains(text, "held by \"T3\"")) << text;
  EXPECT_TRUE(contains(text, "\"T3\" waits on Lock \"A\"")) << text;
  EXPECT_TRUE(contains(text, "held by \"T1\"")) << text;
  EXPECT_TRUE(contains(text, "holds Lock \"A\"")) << text;
  EXPECT_TRUE(contains(text, "acquired at " + site(kFile, kHoldLine))) << text;
  EXPECT_TRUE(contains(text, "at " + site(kFile, kWaitLine) + " (no timeout)")) << text;
}

}  // namespace
}  // namespace weft::testing
