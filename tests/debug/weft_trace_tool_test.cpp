// SPDX-License-Identifier: Apache-2.0
// tools/weft-trace on a trace recorded here: the text summary names the right objects,
// and the HTML page, rendered in headless Chromium, has a lane per thread with its wait,
// hold and hand-off marks, and no console message; a large generated trace converts in
// bounded memory and draws too. Skips (saying why) when the tool or Chromium is missing.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "debug_fixture.hpp"
#include "support/blocking.hpp"
#include "weft/lock.hpp"
#include "weft/queue.hpp"
#include "weft/thread.hpp"

namespace weft::testing {
namespace {

namespace fs = std::filesystem;
using WeftTrace = DebugTest;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The weft-trace program of this build tree (tools/ is beside tests/).
std::string tool_path() {
  const fs::path self = fs::read_symlink("/proc/self/exe");
  return (self.parent_path().parent_path() / "tools" / "weft-trace" / "weft-trace").string();
}

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (::access(p, X_OK) == 0) return p;
  return {};
}

// Records a trace: a contended Lock "html-lock" (one real wait), a queue hand-off.
std::string record_trace(const std::string& dir) {
  const std::string path = dir + "/trace.json";
  debug::disable();
  debug::Options o;
  o.trace_path = path;
  debug::enable(o);
  Lock lock("html-lock");
  Queue<int> q(0, "html-queue");
  lock.acquire();
  Thread waiter(ThreadOptions{"lock-waiter"}, [&] {
    lock.acquire();
    lock.release();
  });
  waiter.start();
  EXPECT_TRUE(wait_until_parked(*waiter.ident()));
  lock.release();
  waiter.join();
  Thread consumer(ThreadOptions{"consumer"}, [&] { EXPECT_EQ(q.get(), 1); });
  consumer.start();
  EXPECT_TRUE(wait_until_parked(*consumer.ident()));
  Thread producer(ThreadOptions{"producer"}, [&] { q.put(1); });
  producer.start();
  producer.join();
  consumer.join();
  EXPECT_TRUE(debug::write_trace());
  debug::disable();
  return path;
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = ::testing::TempDir() + "weft_trace_tool_XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST_F(WeftTrace, SummaryNamesTopWaitsLongestWaitAndMostContendedLock) {
  const std::string tool = tool_path();
  if (::access(tool.c_str(), X_OK) != 0) GTEST_SKIP() << "weft-trace not built at " << tool;
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string trace = record_trace(dir.path());
  const std::string out = dir.path() + "/summary.txt";
  ASSERT_EQ(std::system((tool + " " + trace + " --summary > " + out).c_str()), 0);
  const std::string text = read_file(out);
  EXPECT_NE(text.find("top waits by object"), std::string::npos) << text;
  EXPECT_NE(text.find("Lock \"html-lock\""), std::string::npos) << text;
  EXPECT_NE(text.find("Queue \"html-queue\""), std::string::npos) << text;
  EXPECT_NE(text.find("longest single wait: "), std::string::npos) << text;
  EXPECT_NE(text.find("most contended lock: Lock \"html-lock\" (1 waits"), std::string::npos) << text;
}

// What headless Chromium made of a page: the DOM after the script ran, and every
// console message of the page (any one fails the tests).
struct Rendered {
  std::string dom;
  std::vector<std::string> console;
};

Rendered render_in_chromium(const std::string& chromium, const std::string& dir,
                            const std::string& page) {
  static int run = 0;
  const std::string profile = dir + "/profile-" + std::to_string(++run);
  const std::string dom = dir + "/dom.html", log = dir + "/chromium.log";
  const std::string cmd = "timeout 120 " + chromium +
                          " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                          " --disable-background-networking --disable-component-update"
                          " --disable-sync --user-data-dir=" + profile +
                          " --enable-logging=stderr --v=0 --virtual-time-budget=5000"
                          " --dump-dom file://" + page + " > " + dom + " 2> " + log;
  Rendered r;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  r.dom = read_file(dom);
  std::istringstream lines(read_file(log));
  for (std::string line; std::getline(lines, line);)
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos)
      r.console.push_back(line);
  return r;
}

// The value of data-<key> on the page's status element (drawn marks per kind), or -1.
long status_value(const std::string& dom, const std::string& key) {
  const auto at = dom.find("<div id=\"status\"");
  if (at == std::string::npos) return -1;
  const auto end = dom.find('>', at);
  const std::string tag = dom.substr(at, end - at);
  const std::string attr = "data-" + key + "=\"";
  const auto v = tag.find(attr);
  if (v == std::string::npos) return -1;
  return std::strtol(tag.c_str() + v + attr.size(), nullptr, 10);
}

// The page drew (its script ran to the end) and reported no error.
void expect_drawn_without_errors(const Rendered& r) {
  EXPECT_EQ(status_value(r.dom, "drawn"), 1) << "the page's script did not finish";
  EXPECT_NE(r.dom.find("<pre id=\"errors\"></pre>"), std::string::npos) << "errors shown on the page";
  for (const std::string& line : r.console) ADD_FAILURE() << "console: " << line;
}

TEST_F(WeftTrace, HtmlPageRendersLanesAndSpansInHeadlessChromium) {
  const std::string tool = tool_path();
  if (::access(tool.c_str(), X_OK) != 0) GTEST_SKIP() << "weft-trace not built at " << tool;
  const std::string chromium = chromium_path();
  if (chromium.empty())
    GTEST_SKIP() << "Chromium is not installed (apt-get install -y chromium): page not rendered";
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string trace = record_trace(dir.path());
  const std::string page = dir.path() + "/page.html";
  ASSERT_EQ(std::system((tool + " " + trace + " -o " + page).c_str()), 0);
  const std::string html = read_file(page);
  EXPECT_EQ(html.find("http://"), std::string::npos) << "no URL";
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("..."), std::string::npos) << "no array spread into arguments";
  const Rendered r = render_in_chromium(chromium, dir.path(), page);
  ASSERT_FALSE(r.dom.empty());
  expect_drawn_without_errors(r);
  // The script ran and drew: one lane per thread, and the marks of each kind.
  for (const char* lane : {"MainThread", "lock-waiter", "consumer", "producer"})
    EXPECT_EQ(count(r.dom, std::string("class=\"lane\" data-name=\"") + lane + "\""), 1u) << lane;
  EXPECT_GE(status_value(r.dom, "wait"), 2);  // the lock wait and the queue wait
  EXPECT_GE(status_value(r.dom, "hold"), 2);
  EXPECT_GE(status_value(r.dom, "flows"), 1);
  EXPECT_NE(r.dom.find("Most contended lock: Lock \"html-lock\""), std::string::npos);
}

// A page must not break on a large trace (it used to: a call that spread 128k counter
// points into arguments overflowed the stack). Here a generated trace whose per-thread
// buffers wrapped: the converter stays small, the page draws without an error and says
// how many events were dropped.
TEST_F(WeftTrace, LargeWrappedTraceConvertsInBoundedMemoryAndDraws) {
  const std::string tool = tool_path();
  const std::string generator =
      (fs::path(tool).parent_path() / "weft-trace-generate").string();
  if (::access(tool.c_str(), X_OK) != 0 || ::access(generator.c_str(), X_OK) != 0)
    GTEST_SKIP() << "weft-trace / weft-trace-generate not built beside " << tool;
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string trace = dir.path() + "/big.json", page = dir.path() + "/big.html";
  const std::string gen = generator + " -o " + trace +
                          " --threads 16 --items 20000 --events-per-thread 4096 > /dev/null";
  ASSERT_EQ(std::system(gen.c_str()), 0) << gen;
  const auto json_bytes = fs::file_size(trace);
  // The peak RSS of the converter alone, measured by time(1) (a child's own rusage from
  // here would include this process's memory, which it starts from).
  const bool have_time = ::access("/usr/bin/time", X_OK) == 0;
  const std::string rss_file = dir.path() + "/rss.txt", summary_file = dir.path() + "/summary.txt";
  const std::string conv = (have_time ? "/usr/bin/time -f %M -o " + rss_file + " " : std::string()) +
                           tool + " " + trace + " -o " + page + " --summary > " + summary_file;
  ASSERT_EQ(std::system(conv.c_str()), 0) << conv;
  const std::string summary = read_file(summary_file);
  EXPECT_NE(summary.find("older events were dropped"), std::string::npos) << summary;
  if (have_time) {
    const long rss_kib = std::strtol(read_file(rss_file).c_str(), nullptr, 10);
    ASSERT_GT(rss_kib, 0) << read_file(rss_file);
    // A document tree of the file would take several times its size; the stream reader
    // keeps a compact form of the events only.
    EXPECT_LT(static_cast<double>(rss_kib) * 1024, 1.5 * static_cast<double>(json_bytes))
        << rss_kib << " KiB peak for a " << json_bytes << "-byte trace";
    std::printf("[          ] %ju-byte trace: converted with a peak RSS of %ld KiB\n",
                static_cast<std::uintmax_t>(json_bytes), rss_kib);
  }
  const std::string chromium = chromium_path();
  if (chromium.empty()) GTEST_SKIP() << "Chromium is not installed: page not rendered";
  const Rendered r = render_in_chromium(chromium, dir.path(), page);
  ASSERT_FALSE(r.dom.empty());
  expect_drawn_without_errors(r);
  EXPECT_EQ(count(r.dom, "class=\"lane\" data-name=\"consumer-"), 8u);
  EXPECT_GT(status_value(r.dom, "queue"), 100);
  EXPECT_GT(status_value(r.dom, "hold"), 100);
  EXPECT_NE(r.dom.find("older events were dropped"), std::string::npos);
  std::printf("[          ] page drawn %ld ms after it started loading\n", status_value(r.dom, "ms"));
}

}  // namespace
}  // namespace weft::testing
