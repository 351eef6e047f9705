// SPDX-License-Identifier: Apache-2.0
// ProcessPoolExecutor: results and wire types, RemoteError, worker crashes (abort,
// SIGKILL, segfault) that fail only their own task, max_tasks_per_child, initializer,
// and start-up while the parent has busy threads.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "process/worker_functions.hpp"
#include "weft/lock.hpp"
#include "weft/process.hpp"

namespace {

using weft::Future;
using weft::ProcessPoolExecutor;
using weft_process_tests::die_by_sigkill;
using weft_process_tests::square;
using weft_process_tests::worker_pid;

std::uint64_t cpu_sum(std::uint64_t n) {  // unsigned: wraps instead of overflowing
  std::uint64_t c = 0;
  for (std::uint64_t i = 0; i < n; ++i) c += i * i;
  return c;
}
std::string greet(std::string name, int times) {
  std::string s;
  for (int i = 0; i < times; ++i) s += "hi " + name + ";";
  return s;
}
void nothing() {}

struct Point {
  double x, y;
  int tag;
};
Point mirror(Point p) { return Point{p.y, p.x, p.tag + 1}; }

enum class Color : std::uint8_t { red, green };
std::tuple<int, std::string, std::optional<double>, Color> mixed(
    std::vector<std::pair<int, std::string>> v, std::array<int, 3> a) {
  int sum = a[0] + a[1] + a[2];
  std::string cat;
  for (auto& [k, s] : v) {
    sum += k;
    cat += s;
  }
  return {sum, cat, v.empty() ? std::nullopt : std::optional<double>(1.5), Color::green};
}

struct ValueProblem : std::runtime_error {
  using std::runtime_error::runtime_error;
};
int throws_value_problem(int x) { throw ValueProblem("bad value " + std::to_string(x)); }

void no_core_dump() {
  rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}
int die_by_abort(int) {
  no_core_dump();
  std::abort();
}
int die_by_segfault(int) {
  no_core_dump();
  ::raise(SIGSEGV);
  return 0;
}
int die_by_exit(int code) { std::_Exit(code); }

// A user type with its own codec.
struct Money {
  std::string currency;
  long cents;
};
}  // namespace

template <>
struct weft::codec<Money> {
  static void encode(weft::WireWriter& w, const Money& m) {
    w.write(m.currency);
    w.write(m.cents);
  }
  static Money decode(weft::WireReader& r) {
    Money m;
    m.currency = r.read<std::string>();
    m.cents = r.read<long>();
    return m;
  }
};

namespace {
Money double_money(Money m) { return Money{m.currency, m.cents * 2}; }

int g_initialized = 0;
void init_worker() { g_initialized = 42; }
int read_initialized() { return g_initialized; }
void init_fails() { throw ValueProblem("cannot initialise"); }

TEST(ProcessPool, SubmitRunsInAnotherProcess) {
  ProcessPoolExecutor pool(2);
  EXPECT_EQ(pool.submit(square, 9).result(), 81);
  EXPECT_NE(pool.submit(worker_pid).result(), static_cast<int>(::getpid()));
  pool.submit(nothing).result();
}

TEST(ProcessPool, WireTypesRoundTrip) {
  ProcessPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(greet, "bob", 2).result(), "hi bob;hi bob;");
  Point p = pool.submit(mirror, Point{1.0, 2.0, 7}).result();
  EXPECT_EQ(p.x, 2.0);
  EXPECT_EQ(p.y, 1.0);
  EXPECT_EQ(p.tag, 8);
  auto [sum, cat, opt, color] =
      pool.submit(mixed, std::vector<std::pair<int, std::string>>{{1, "a"}, {2, "b"}},
                  std::array<int, 3>{10, 20, 30})
          .result();
  EXPECT_EQ(sum, 63);
  EXPECT_EQ(cat, "ab");
  EXPECT_EQ(opt, 1.5);
  EXPECT_EQ(color, Color::green);
  Money m = pool.submit(double_money, Money{"EUR", 250}).result();
  EXPECT_EQ(m.currency, "EUR");
  EXPECT_EQ(m.cents, 500);
}

TEST(ProcessPool, ManyTasksAndMap) {
  ProcessPoolExecutor pool(2);
  std::vector<int> in;
  for (int i = 0; i < 200; ++i) in.push_back(i);
  int i = 0;
  for (int v : pool.map(square, in)) {
    EXPECT_EQ(v, i * i);
    ++i;
  }
  EXPECT_EQ(i, 200);
}

TEST(ProcessPool, TaskExceptionBecomesRemoteError) {
  ProcessPoolExecutor pool(1);
  auto f = pool.submit(throws_value_problem, 5);
  try {
    f.result();
    FAIL() << "no exception";
  } catch (const weft::RemoteError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("ValueProblem"), std::string::npos) << what;
    EXPECT_NE(what.find("bad value 5"), std::string::npos) << what;
  }
  EXPECT_EQ(pool.submit(square, 3).result(), 9) << "the worker survives a throwing task";
}

class WorkerCrash : public ::testing::TestWithParam<int (*)(int)> {};

TEST_P(WorkerCrash, FailsOnlyItsOwnTaskAndThePoolKeepsServing) {
  ProcessPoolExecutor pool(2);
  std::vector<Future<int>> before;
  for (int i = 0; i < 4; ++i) before.push_back(pool.submit(square, i));
  auto doomed = pool.submit(GetParam(), 3);
  std::vector<Future<int>> after;
  for (int i = 0; i < 20; ++i) after.push_back(pool.submit(square, i));
  EXPECT_THROW(doomed.result(), weft::BrokenProcessPool);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(before[static_cast<std::size_t>(i)].result(), i * i);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(after[static_cast<std::size_t>(i)].result(), i * i);
  // Again, after the replacement.
  EXPECT_THROW(pool.submit(GetParam(), 1).result(), weft::BrokenProcessPool);
  EXPECT_EQ(pool.submit(square, 12).result(), 144);
}

INSTANTIATE_TEST_SUITE_P(Signals, WorkerCrash,
                         ::testing::Values(&die_by_abort, &die_by_sigkill, &die_by_segfault,
                                           &die_by_exit));

TEST(ProcessPool, BrokenProcessPoolSaysWhatHappened) {
  ProcessPoolExecutor pool(1);
  // The Future outlives the handler: with a temporary, the pool's thread could free the
  // exception object after the handler read it, ordered only by libstdc++'s internal
  // (uninstrumented) refcount, which ThreadSanitizer reports as a race.
  auto f = pool.submit(die_by_sigkill, 0);
  try {
    f.result();
    FAIL() << "no exception";
  } catch (const weft::BrokenProcessPool& e) {
    EXPECT_NE(std::string(e.what()).find("signal 9"), std::string::npos) << e.what();
  }
}

TEST(ProcessPool, MaxTasksPerChildReplacesWorkers) {
  ProcessPoolExecutor pool(1, weft::ProcessPoolOptions{nullptr, 2});
  std::vector<int> pids;
  for (int i = 0; i < 6; ++i) pids.push_back(pool.submit(worker_pid).result());
  EXPECT_EQ(pids[0], pids[1]);
  EXPECT_NE(pids[1], pids[2]);
  EXPECT_EQ(pids[2], pids[3]);
  EXPECT_NE(pids[3], pids[4]);
  EXPECT_EQ(std::set<int>(pids.begin(), pids.end()).size(), 3u);
}

TEST(ProcessPool, InitializerRunsInEachWorker) {
  ProcessPoolExecutor pool(2, weft::ProcessPoolOptions{&init_worker, 0});
  EXPECT_EQ(g_initialized, 0) << "not in the parent";
  for (int i = 0; i < 4; ++i) EXPECT_EQ(pool.submit(read_initialized).result(), 42);
}

TEST(ProcessPool, FailingInitializerBreaksThePool) {
  ProcessPoolExecutor pool(1, weft::ProcessPoolOptions{&init_fails, 0});
  auto f = pool.submit(square, 2);
  try {
    f.result();
    FAIL() << "no exception";
  } catch (const weft::BrokenProcessPool& e) {
    EXPECT_NE(std::string(e.what()).find("cannot initialise"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pool.submit(square, 3), weft::BrokenProcessPool);
}

TEST(ProcessPool, SubmitAfterShutdownThrows) {
  ProcessPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(square, 2).result(), 4);
  pool.shutdown();
  EXPECT_THROW(pool.submit(square, 3), weft::RuntimeError);
}

TEST(ProcessPool, ShutdownWithoutAnyTask) {
  ProcessPoolExecutor pool(3);
  pool.shutdown(true);
  pool.shutdown(false);
  SUCCEED();
}

TEST(ProcessPool, ShutdownCancelFuturesAccountsForEveryTask) {
  std::vector<Future<std::uint64_t>> fs;
  {
    ProcessPoolExecutor pool(1);
    for (int i = 0; i < 50; ++i) fs.push_back(pool.submit(cpu_sum, 1000u));
    pool.shutdown(false, true);
  }
  int ran = 0, cancelled = 0;
  for (auto& f : fs) {
    ASSERT_TRUE(f.done());
    if (f.cancelled()) {
      ++cancelled;
    } else {
      EXPECT_EQ(f.result(), cpu_sum(1000));
      ++ran;
    }
  }
  EXPECT_EQ(ran + cancelled, 50);
  EXPECT_GE(cancelled, 1);
}

TEST(ProcessPool, CancelPendingTask) {
  ProcessPoolExecutor pool(1);
  auto slow = pool.submit(cpu_sum, 20'000'000u);
  auto queued = pool.submit(square, 4);
  const bool cancelled = queued.cancel();
  if (cancelled) {
    EXPECT_THROW(queued.result(), weft::CancelledError);
  } else {
    EXPECT_EQ(queued.result(), 16);
  }
  EXPECT_EQ(slow.result(), cpu_sum(20'000'000u));
}

TEST(ProcessPool, WorksWhileTheParentHasBusyThreads) {
  // Other threads hold locks and allocate while workers start: with fork() alone a
  // child could inherit a held lock; spawn+exec cannot.
  std::atomic<bool> stop{false};
  weft::Lock lock;
  std::mutex m;
  std::vector<std::thread> busy;
  for (int t = 0; t < 3; ++t) {
    busy.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        std::scoped_lock hold(lock, m);
        std::vector<std::string> garbage(16, std::string(64, 'x'));
        std::printf("%s", garbage[0].c_str() + 64);  // stdio lock too
      }
    });
  }
  {
    ProcessPoolExecutor pool(3, weft::ProcessPoolOptions{nullptr, 1});  // a new worker per task
    std::vector<Future<int>> fs;
    for (int i = 0; i < 12; ++i) fs.push_back(pool.submit(square, i));
    for (int i = 0; i < 12; ++i) EXPECT_EQ(fs[static_cast<std::size_t>(i)].result(), i * i);
  }
  stop = true;
  for (auto& t : busy) t.join();
}

TEST(ProcessPool, FuturesOutliveThePool) {
  Future<int> f;
  {
    ProcessPoolExecutor pool(1);
    f = pool.submit(square, 11);
  }
  EXPECT_EQ(f.result(), 121);
}

}  // namespace

namespace {
struct HasPointerLikeMember {
  std::string s;  // not trivially copyable, no codec
};
static_assert(weft::is_wire_type_v<int>);
static_assert(weft::is_wire_type_v<Color>);
static_assert(weft::is_wire_type_v<std::string>);
static_assert(weft::is_wire_type_v<Point>);
static_assert(weft::is_wire_type_v<Money>, "a codec specialization makes a wire type");
static_assert(weft::is_wire_type_v<std::vector<std::optional<std::tuple<int, std::string>>>>);
static_assert(!weft::is_wire_type_v<HasPointerLikeMember>);
static_assert(!weft::is_wire_type_v<std::map<int, int>>);
static_assert(!weft::is_wire_type_v<std::vector<std::set<int>>>);
static_assert(!weft::is_wire_type_v<int*>);

TEST(Wire, EncodeDecodeWithoutAProcess) {
  weft::WireWriter w;
  w.write(std::vector<std::string>{"a", "", "ccc"});
  w.write(std::optional<int>());
  w.write(Money{"USD", -5});
  weft::WireReader r(w.buffer());
  EXPECT_EQ(r.read<std::vector<std::string>>(), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_FALSE(r.read<std::optional<int>>().has_value());
  Money m = r.read<Money>();
  EXPECT_EQ(m.currency, "USD");
  EXPECT_EQ(m.cents, -5);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_THROW(r.read<int>(), weft::RuntimeError) << "reading past the end";
}

TEST(Wire, TruncatedMessageIsRejected) {
  weft::WireWriter w;
  w.write(std::string(100, 'x'));
  std::string bytes = w.buffer().substr(0, 50);
  weft::WireReader r(bytes);
  EXPECT_THROW(r.read<std::string>(), weft::RuntimeError);
}
}  // namespace

namespace {
std::string reverse_big(std::string s) { return std::string(s.rbegin(), s.rend()); }
std::vector<double> scale(std::vector<double> v, double k) {
  for (double& x : v) x *= k;
  return v;
}
int slow_square(int x) {
  volatile std::uint64_t sink = cpu_sum(30'000'000u);
  (void)sink;
  return x * x;
}

TEST(ProcessPool, LargeArgumentsAndResultsCrossIntact) {
  ProcessPoolExecutor pool(2);
  std::string big(3 << 20, 'a');
  for (std::size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>('b' + i % 20);
  std::vector<double> v(400'000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  auto f = pool.submit(reverse_big, big);
  auto g = pool.submit(scale, v, 0.5);
  EXPECT_EQ(f.result(), std::string(big.rbegin(), big.rend()));
  auto w = g.result();
  ASSERT_EQ(w.size(), v.size());
  EXPECT_EQ(w[399'999], 399'999 * 0.5);
}

TEST(ProcessPool, TimedResultAndMapTimeout) {
  ProcessPoolExecutor pool(1);
  auto f = pool.submit(slow_square, 3);
  const auto start = std::chrono::steady_clock::now();
  try {
    (void)f.result(std::chrono::milliseconds(1));
  } catch (const weft::TimeoutError&) {
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1));
  }
  EXPECT_EQ(f.result(), 9);
  auto results = pool.map(square, std::vector<int>{1, 2, 3}, std::chrono::seconds(60));
  std::vector<int> got;
  for (int r : results) got.push_back(r);
  EXPECT_EQ(got, (std::vector<int>{1, 4, 9}));
}
}  // namespace

namespace {
// ---- negative counts, captureless lambdas ----

TEST(ProcessPool, NegativeMaxWorkersIsAValueError) {
  EXPECT_THROW(ProcessPoolExecutor(-1), weft::ValueError);
  EXPECT_THROW(ProcessPoolExecutor(-3, weft::ProcessPoolOptions{}), weft::ValueError);
  const long negative = -2;
  EXPECT_THROW(ProcessPoolExecutor{negative}, weft::ValueError);
  ProcessPoolExecutor pool(2);  // an int literal that is not negative still works
  EXPECT_EQ(pool.submit(square, 4).result(), 16);
}

TEST(ProcessPool, CapturelessLambdasRunAsPlainFunctions) {
  ProcessPoolExecutor pool(1);
  EXPECT_EQ(pool.submit([](int x) { return x + 1; }, 41).result(), 42);
  auto twice = [](std::string s) { return s + s; };
  EXPECT_EQ(pool.submit(twice, std::string("ab")).result(), "abab");
  std::vector<int> got;
  for (int v : pool.map([](int x) { return -x; }, std::vector<int>{1, 2, 3})) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{-1, -2, -3}));
  got.clear();
  for (int v : pool.map([](int x) { return x * 10; }, std::vector<int>{4}, std::chrono::seconds(60)))
    got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{40}));
}
}  // namespace
