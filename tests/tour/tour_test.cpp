// SPDX-License-Identifier: Apache-2.0
// Runs every lesson of weft-demo in --quick mode and checks what it promises, from its
// output and exit status. Speed-ups are printed by the lessons, never asserted here.
// Skips (with a message) when weft-demo is not built (WEFT_BUILD_TOOLS=OFF).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "run_process.hpp"

namespace {

using tour_test::quote;
using tour_test::run;

std::string demo_path() {
#ifdef WEFT_DEMO_PATH
  if (std::filesystem::exists(WEFT_DEMO_PATH)) return WEFT_DEMO_PATH;
#endif
  return {};
}

#define REQUIRE_DEMO()                                                          \
  const std::string demo = demo_path();                                         \
  if (demo.empty()) GTEST_SKIP() << "weft-demo is not built (WEFT_BUILD_TOOLS=OFF)"

std::string scratch_dir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("weft-tour-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

// The guide's lessons, in the tour's order.
const std::vector<std::string> kGuideLessons = {
    "race",          "lock",        "queue",           "event",
    "condition",     "semaphore",   "task-done",       "bounded-queue",
    "event-signal",  "race-two",    "acquire-release", "with-lock",
    "condition-notify", "semaphore-resource", "daemon", "rlock",
    "barrier",       "timer",       "pool",            "process-pool",
    "food-delivery", "traffic-signal", "bank-transfer", "printer",
    "gil",           "http"};

// What each lesson must print, besides its [held] lines (a regular expression each).
std::vector<std::string> expected_output(const std::string& lesson) {
  if (lesson == "race") return {R"(Counter: \d+)", R"(\d+ runs: \d+ updates lost)", "ThreadSanitizer"};
  if (lesson == "race-two") return {R"(\n  \d+ )", "ThreadSanitizer"};
  if (lesson == "lock") return {"Counter: 500000"};
  if (lesson == "acquire-release") return {R"(  200000 )"};
  if (lesson == "queue") return {"Consumed: 4", "Done!"};
  if (lesson == "event") return {"Waiting for event...", "Setting event", "Event received!"};
  if (lesson == "condition") return {"Waiting for data...", "Data produced", "Data consumed"};
  if (lesson == "semaphore") return {"most inside at once: 2", "All threads complete!"};
  if (lesson == "semaphore-resource") return {"most inside at once: [12]"};
  if (lesson == "bounded-queue") return {R"(\n  2 )"};
  if (lesson == "daemon") return {"Running...", "main: returning", "worker \\(not daemon\\): finished"};
  if (lesson == "gil") return {"=== CPU-bound Task Test ===", R"(Speedup: [0-9.]+x)", "SVG chart: ",
                               R"(cores)", "I/O-bound, 4 threads"};
  if (lesson == "http") return {R"(Speedup: [0-9.]+x)", R"(sequential \(50 URLs\))"};
  if (lesson == "pool") return {"done: 0.2"};
  if (lesson == "interrupt")
    return {"main: KeyboardInterrupt caught, qsize 0", "worker: got 1 \\(not interrupted\\)",
            "main: put 2, got 2, qsize 0", R"(median \d+ us, worst \d+ us \(1 run\))"};
  if (lesson == "cluster")
    return {R"(12 tasks on [1-3] worker processes)", R"(killed worker \d+ mid-task)",
            R"(task re-run on worker \d+)", R"(one result, from worker \d+)", R"(50 of 50 pages fetched by [1-3] workers)",
            "results accepted: 63 of 63 tasks"};
  return {};
}

// Every lesson of the catalogue, in the tour's order, as `weft-demo --list` names them (a
// lesson added to the catalogue is run here without a line of its own); the guide's
// lessons when weft-demo is not built or does not answer (each test then says why).
std::vector<std::string> every_lesson() {
  const std::string demo = demo_path();
  if (demo.empty()) return kGuideLessons;
  const auto r = run(quote(demo) + " --list");
  if (r.status != 0) return kGuideLessons;
  std::vector<std::string> names;
  std::size_t at = 0;
  while (at < r.out.size()) {
    std::size_t end = r.out.find('\n', at);
    if (end == std::string::npos) end = r.out.size();
    const std::string line = r.out.substr(at, end - at);
    if (!line.empty() && line[0] != ' ') names.push_back(line.substr(0, line.find(' ')));
    at = end + 1;
  }
  return names.empty() ? kGuideLessons : names;
}

class Lesson : public ::testing::TestWithParam<std::string> {};

TEST_P(Lesson, RunsQuickAndKeepsEveryPromise) {
  REQUIRE_DEMO();
  const std::string dir = scratch_dir();
  const auto r = run(quote(demo) + " --quick --out-dir " + quote(dir) + " " + GetParam());
  if (r.out.find("not built in this weft-demo") != std::string::npos)
    GTEST_SKIP() << GetParam() << ": its part of weft is not in this build";
  if (r.out.find("redis-server is not installed") != std::string::npos)
    GTEST_SKIP() << GetParam() << ": redis-server is not installed";
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Lessons run: 1 of 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Result: every promise held"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("[FAILED]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[held]"), std::string::npos) << "a lesson checks at least one promise\n"
                                                      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("Python, (as the guide says|the same program)")))
      << "the Python column is printed beside the C++ output\n" << r.out;
  for (const auto& pattern : expected_output(GetParam()))
    EXPECT_TRUE(std::regex_search(r.out, std::regex(pattern))) << "missing /" << pattern
                                                               << "/ in\n" << r.out;
  if (GetParam() == "gil") {
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir) / "weft-gil.svg"));
    // Each measured speed-up is printed with its bar; the values come from the run.
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(CPU-bound, 4 threads, emulated GIL +\S* ?[0-9.]+x)")))
        << r.out;
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Tour, Lesson, ::testing::ValuesIn(every_lesson()),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           for (auto& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(Tour, ListNamesEveryLessonInOrder) {
  REQUIRE_DEMO();
  const auto r = run(quote(demo) + " --list");
  ASSERT_EQ(r.status, 0) << r.out;
  std::size_t at = 0;
  for (const auto& lesson : kGuideLessons) {
    const auto found = r.out.find("\n" + lesson + " ", at == 0 ? 0 : at);
    const bool first = r.out.rfind(lesson + " ", 0) == 0;
    ASSERT_TRUE(first || found != std::string::npos) << lesson << " missing or out of order\n"
                                                      << r.out;
    at = first ? 1 : found + 1;
  }
}

// Without redis-server on PATH the cluster lesson says why it cannot run and is skipped,
// not failed.
TEST(Tour, ClusterWithoutRedisServerSaysWhyAndSkips) {
  REQUIRE_DEMO();
  const auto r = run("PATH=/nonexistent-weft-path " + quote(demo) + " --quick cluster");
  if (r.out.find("not built in this weft-demo") != std::string::npos)
    GTEST_SKIP() << "cluster: weft::dist is not in this build";
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("[skipped] cluster: redis-server is not installed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("[FAILED]"), std::string::npos) << r.out;
}

TEST(Tour, UnknownLessonIsAUsageError) {
  REQUIRE_DEMO();
  const auto r = run(quote(demo) + " no-such-lesson");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("no lesson named 'no-such-lesson'"), std::string::npos) << r.out;
}

TEST(Tour, AFailedPromiseGivesANonZeroExitStatus) {
  REQUIRE_DEMO();
  const auto r = run("WEFT_DEMO_INJECT_FAILURE=1 " + quote(demo) + " --quick with-lock");
  if (r.out.find("not built in this weft-demo") != std::string::npos)
    GTEST_SKIP() << "the with-lock lesson is not in this weft-demo";
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("[FAILED]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Result: SOME PROMISES FAILED"), std::string::npos) << r.out;
}

// A timing claim is judged only when the machine was quiet while it was measured: a CPU
// hog started in the middle of a lesson (at its first measurement, through the test hook
// "gate") leaves the lesson's claims "not judged", and the run still succeeds. The hook
// "judge-quick" judges claims with --quick as a full run does.
TEST(Tour, ACpuHogStartedMidLessonLeavesItsClaimsUnjudged) {
  REQUIRE_DEMO();
  const std::string dir = scratch_dir();
  tour_test::Child tour("WEFT_DEMO_TEST=judge-quick,gate " + quote(demo) + " --quick --out-dir " +
                        quote(dir) + " gil");
  ASSERT_TRUE(tour.started());
  if (!tour.read_until("weft-demo test gate")) {
    tour.wait();
    if (tour.output().find("not built in this weft-demo") != std::string::npos)
      GTEST_SKIP() << "the gil lesson is not in this weft-demo";
    FAIL() << "the lesson never reached its first measurement\n" << tour.output();
  }
  std::vector<std::unique_ptr<tour_test::Child>> hogs;  // one busy loop per core
  for (unsigned i = 0; i < std::max(1u, std::thread::hardware_concurrency()); ++i)
    hogs.push_back(std::make_unique<tour_test::Child>("while :; do :; done"));
  tour.write_line();  // the gate opens: the lesson measures beside the hogs
  const int status = tour.wait();
  hogs.clear();
  const std::string& out = tour.output();
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("Result: every promise held"), std::string::npos) << out;
  EXPECT_EQ(out.find("[FAILED]"), std::string::npos) << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex(R"(not judged: the machine was busy \(other processes used \d+% of a core\), in each of 4 measurements)")))
      << out;
  std::filesystem::remove_all(dir);
}

// A timing claim that fails on a quiet machine fails the run. The test hook "fail-claim"
// makes the first claim's threshold impossible and its measurement read quiet, so the
// claim is judged whatever the load on the machine running this test.
TEST(Tour, AFailedTimingClaimOnAQuietMachineGivesANonZeroExitStatus) {
  REQUIRE_DEMO();
  const auto r = run("WEFT_DEMO_TEST=fail-claim " + quote(demo) + " --quick race-two");
  if (r.out.find("not built in this weft-demo") != std::string::npos)
    GTEST_SKIP() << "the race-two lesson is not in this weft-demo";
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("[FAILED] timing: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test hook fail-claim"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Result: SOME PROMISES FAILED"), std::string::npos) << r.out;
}

TEST(Tour, SummaryCountsLessonsAndPromises) {
  REQUIRE_DEMO();
  const auto r = run(quote(demo) + " --quick lock with-lock bank-transfer");
  if (r.out.find("not built in this weft-demo") != std::string::npos)
    GTEST_SKIP() << "these lessons are not in this weft-demo";
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Lessons run: 3 of 3"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(Promises held: (\d+) of \1\n)"))) << r.out;
}

TEST(Tour, DaemonChildExitsAndJoinsItsNonDaemonThread) {
  REQUIRE_DEMO();
  const auto r = run(quote(demo) + " daemon-child --quick");
  if (r.status == 2) GTEST_SKIP() << "the daemon lesson is not in this weft-demo";
  EXPECT_EQ(r.status, 0) << r.out;
  const auto returned = r.out.find("main: returning");
  const auto finished = r.out.find("worker (not daemon): finished");
  ASSERT_NE(returned, std::string::npos) << r.out;
  ASSERT_NE(finished, std::string::npos) << r.out;
  EXPECT_LT(returned, finished) << r.out;
}

}  // namespace
