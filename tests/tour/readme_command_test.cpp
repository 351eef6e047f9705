// SPDX-License-Identifier: Apache-2.0
// Runs the README's tour command as the README writes it: `scripts/demo.sh` (here with
// --quick). It installs what is missing, builds Release into build/release and runs the
// tour, so it is slow: tools/weft-demo/CMakeLists.txt registers it as the CTest test
// tour.readme_command (label "readme", long timeout), which sets WEFT_TOUR_README_TEST=1.
// Under the plain test name it skips.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "run_process.hpp"

namespace {

TEST(ReadmeCommand, DemoScriptRunsTheWholeTour) {
  if (std::getenv("WEFT_TOUR_README_TEST") == nullptr)
    GTEST_SKIP() << "runs as the CTest test tour.readme_command (WEFT_TOUR_README_TEST=1)";
#ifndef WEFT_SOURCE_DIR
  GTEST_SKIP() << "the source directory is unknown to this build";
#else
  const std::filesystem::path root = WEFT_SOURCE_DIR;
  if (!std::filesystem::exists(root / "scripts" / "demo.sh"))
    GTEST_SKIP() << "scripts/demo.sh does not exist yet";
  const auto r = tour_test::run("cd " + tour_test::quote(root.string()) + " && scripts/demo.sh --quick");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Result: every promise held"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Lessons run: "), std::string::npos) << r.out;
#endif
}

}  // namespace
