// tools/weft-trace on a trace recorded here: the text summary names the right objects,
// and the HTML page, rendered in headless Chromium, has a lane per thread with its wait,
// hold and hand-off marks. Skips (saying why) when the tool or Chromium is missing.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

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
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg")) << "no other URL";
  EXPECT_EQ(html.find("https://"), std::string::npos);
  const std::string dom = dir.path() + "/dom.html";
  const std::string cmd = "timeout 120 " + chromium +
                          " --headless --no-sandbox --disable-gpu --disable-background-networking"
                          " --disable-component-update --no-first-run --user-data-dir=" +
                          dir.path() + "/profile --virtual-time-budget=5000 --dump-dom file://" +
                          page + " > " + dom + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string text = read_file(dom);
  ASSERT_FALSE(text.empty());
  // The script ran and drew: one lane per thread, and the marks of each kind.
  for (const char* lane : {"MainThread", "lock-waiter", "consumer", "producer"})
    EXPECT_EQ(count(text, std::string("class=\"lane\" data-name=\"") + lane + "\""), 1u) << lane;
  EXPECT_GE(count(text, "class=\"span wait\""), 2u);  // the lock wait and the queue wait
  EXPECT_GE(count(text, "class=\"hold\""), 2u);
  EXPECT_GE(count(text, "class=\"flow\""), 1u);
  EXPECT_NE(text.find("Most contended lock: Lock \"html-lock\""), std::string::npos);
}

}  // namespace
}  // namespace weft::testing
