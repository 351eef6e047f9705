// SPDX-License-Identifier: Apache-2.0
// ProcessPoolExecutor under attack: a forked child that uses the parent's pool, a task
// whose subprocess outlives its crashed worker, a frozen (SIGSTOPped) worker, a pool
// destroyed in its own done callback, and exhaustion of descriptors, processes and
// threads (setrlimit, in child processes: the test process keeps its limits).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

#include "process/worker_functions.hpp"
#include "weft/event.hpp"
#include "weft/process.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using weft::Future;
using weft::ProcessPoolExecutor;

// How long a test waits for something that, with the defect, would never happen: only
// the failure path ever waits this long.
constexpr auto kPatience = 60s;

template <class F>
struct Cleanup {
  F f;
  ~Cleanup() { f(); }
};
template <class F>
Cleanup(F) -> Cleanup<F>;

// ---- functions the workers run ----

using weft_process_tests::die_by_sigkill;
using weft_process_tests::square;
using weft_process_tests::worker_pid;
std::size_t length_of(std::string s) { return s.size(); }

// Tells the test it started (its pid, through dir/started), then blocks until the test
// releases its gate (dir/gate; see FifoGate); returns the worker's pid.
int wait_gate_then_pid(std::string dir) {
  const int pid = static_cast<int>(::getpid());
  const int started = ::open((dir + "/started").c_str(), O_WRONLY | O_CLOEXEC);
  if (started < 0) return -1;
  const ssize_t w = ::write(started, &pid, sizeof pid);  // atomic: under PIPE_BUF
  ::close(started);
  const int gate = ::open((dir + "/gate").c_str(), O_RDONLY | O_CLOEXEC);
  if (gate < 0) return -1;
  char c = 0;
  const ssize_t k = ::read(gate, &c, 1);
  ::close(gate);
  return w == sizeof pid && k == 1 ? pid : -1;
}

// The worker's open descriptors above stderr, each with whether it is close-on-exec.
std::vector<std::pair<int, bool>> worker_fds() {
  std::vector<std::pair<int, bool>> out;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return out;
  const int own = ::dirfd(d);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    if (fd <= 2 || fd == own) continue;
    out.emplace_back(fd, (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  }
  ::closedir(d);
  return out;
}

// Starts `sleep 1000` from the task and returns its pid; the sleeper outlives the worker.
int spawn_sleeper() {
  char a0[] = "sleep";
  char a1[] = "1000";
  char* argv[] = {a0, a1, nullptr};
  pid_t pid = -1;
  if (::posix_spawnp(&pid, "sleep", nullptr, nullptr, argv, environ) != 0) return -1;
  return static_cast<int>(pid);
}

// ---- test helpers ----

// Two named pipes in a fresh directory (the argument of wait_gate_then_pid): tasks
// announce that they started on one (wait_started) and block on the other until
// release(n) lets n of them go on. The destructor releases every waiter, so a failing
// test never hangs.
class FifoGate {
 public:
  FifoGate() {
    char dir[] = "/tmp/weft-gate-XXXXXX";
    if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = dir;
    gate_fd_ = make_fifo("/gate");
    started_fd_ = make_fifo("/started");
  }
  ~FifoGate() {
    release(4096);
    ::close(gate_fd_);
    ::close(started_fd_);
    ::unlink((dir_ + "/gate").c_str());
    ::unlink((dir_ + "/started").c_str());
    ::rmdir(dir_.c_str());
  }
  FifoGate(const FifoGate&) = delete;
  FifoGate& operator=(const FifoGate&) = delete;
  const std::string& path() const { return dir_; }
  void release(std::size_t n) {
    const std::string bytes(n, 'g');
    [[maybe_unused]] ssize_t k = ::write(gate_fd_, bytes.data(), bytes.size());
  }
  // The pids of the next n tasks to start (fewer if they do not all start in kPatience).
  std::vector<int> wait_started(std::size_t n) {
    std::vector<int> pids;
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (pids.size() < n && std::chrono::steady_clock::now() < give_up) {
      pollfd p{started_fd_, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) continue;
      int pid = 0;
      if (::read(started_fd_, &pid, sizeof pid) == sizeof pid) pids.push_back(pid);
    }
    return pids;
  }

 private:
  int make_fifo(const char* name) {
    const std::string path = dir_ + name;
    if (::mkfifo(path.c_str(), 0600) != 0) throw std::runtime_error("mkfifo");
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);  // O_RDWR: never blocks
    if (fd < 0) throw std::runtime_error("open fifo");
    return fd;
  }

  std::string dir_;
  int gate_fd_ = -1, started_fd_ = -1;
};

// Inside a child process: report a failed check on stderr and exit with status 1.
void require(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "child check failed: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

// Runs body in a fresh process (gtest's threadsafe death test: the test binary is
// executed again, so the child starts single-threaded); the test passes when body
// returns without a failed require() or an exception.
void run_in_child(void (*body)()) {
  try {
    body();
  } catch (const std::exception& e) {
    require(false, std::string("exception ") + typeid(e).name() + ": " + e.what());
  }
  std::fflush(nullptr);
  std::_Exit(0);
}
#define WEFT_IN_CHILD(body)                                   \
  do {                                                        \
    GTEST_FLAG_SET(death_test_style, "threadsafe");           \
    EXPECT_EXIT(run_in_child(body), ::testing::ExitedWithCode(0), ""); \
  } while (false)

// In a child: no descriptor can be opened until restore_descriptors(). First a round
// trip through a pool, a result and a crash: UBSan's vptr check opens a pipe the first
// time it meets a type, and would report every new type as invalid without one.
void exhaust_descriptors() {
  {
    ProcessPoolExecutor warm_up(1);
    require(warm_up.submit(square, 3).result() == 9, "warm-up task");
    require(warm_up.submit(die_by_sigkill, 0).exception() != nullptr, "warm-up crash");
  }
  const int lowest_free = ::dup(0);
  require(lowest_free >= 0, "dup");
  ::close(lowest_free);
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = static_cast<rlim_t>(lowest_free);
  require(::setrlimit(RLIMIT_NOFILE, &r) == 0, "setrlimit(RLIMIT_NOFILE)");
  require(::dup(0) < 0 && errno == EMFILE, "the descriptor limit is in force");
}
void restore_descriptors() {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  require(::setrlimit(RLIMIT_NOFILE, &r) == 0, "restore RLIMIT_NOFILE");
}

// In a child: no process or thread can be started until restore_processes(). Root is
// not held to RLIMIT_NPROC, so a root child first becomes user nobody.
void exhaust_processes() {
  if (::geteuid() == 0) {
    require(::setgroups(0, nullptr) == 0, "setgroups");
    require(::setresgid(65534, 65534, 65534) == 0, "setresgid");
    require(::setresuid(65534, 65534, 65534) == 0, "setresuid");
    ::prctl(PR_SET_DUMPABLE, 1);
  }
  rlimit r{};
  ::getrlimit(RLIMIT_NPROC, &r);
  r.rlim_cur = 0;
  require(::setrlimit(RLIMIT_NPROC, &r) == 0, "setrlimit(RLIMIT_NPROC)");
  const pid_t pid = ::fork();
  if (pid == 0) std::_Exit(0);
  if (pid > 0) ::waitpid(pid, nullptr, 0);
  require(pid < 0 && errno == EAGAIN, "the process limit is in force");
  require(spawn_sleeper() < 0, "posix_spawn fails too");
}
void restore_processes() {
  rlimit r{};
  ::getrlimit(RLIMIT_NPROC, &r);
  r.rlim_cur = r.rlim_max;
  require(::setrlimit(RLIMIT_NPROC, &r) == 0, "restore RLIMIT_NPROC");
}

// Proves the pool starts workers again: n tasks running at once run in n workers.
void require_grows_to(ProcessPoolExecutor& pool, std::size_t n) {
  FifoGate gate;
  std::vector<Future<int>> fs;
  for (std::size_t i = 0; i < n; ++i) fs.push_back(pool.submit(wait_gate_then_pid, gate.path()));
  const std::vector<int> started = gate.wait_started(n);
  require(started.size() == n, "the pool started new workers again");
  gate.release(n);
  std::set<int> pids;
  for (auto& f : fs) pids.insert(f.result(kPatience));
  require(pids.size() == n && !pids.contains(-1), "n tasks ran at once in n workers");
}

// ---- #3: a forked child and the parent's pool ----

TEST(ProcessPoolFork, ChildCannotReachTheParentsWorkersAndTheParentIsUntouched) {
  auto pool = std::make_unique<ProcessPoolExecutor>(1);
  const int worker = pool->submit(worker_pid).result();
  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // 'B': submit refused with BrokenProcessPool; 'S': it reached the parent's worker.
    char verdict = '?';
    try {
      (void)pool->submit(square, 7);
      verdict = 'S';
    } catch (const weft::BrokenProcessPool&) {
      verdict = 'B';
    } catch (...) {
      verdict = 'X';
    }
    [[maybe_unused]] ssize_t k = ::write(report[1], &verdict, 1);
    pool->shutdown(true);
    pool.reset();  // in the child: frees its copy, touches nothing of the parent's
    verdict = 'D';
    k = ::write(report[1], &verdict, 1);
    std::_Exit(0);
  }
  ::close(report[1]);
  Cleanup reap{[&] {
    ::close(report[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
  }};
  char verdict = 0;
  ASSERT_EQ(::read(report[0], &verdict, 1), 1);
  if (verdict != 'B') ::kill(child, SIGKILL);  // its destructor may hang on the old code
  ASSERT_EQ(verdict, 'B') << "submit in the forked child must throw BrokenProcessPool";
  ASSERT_EQ(::read(report[0], &verdict, 1), 1);
  EXPECT_EQ(verdict, 'D') << "the child's shutdown and destructor return";
  // The parent's pool: same worker, right results.
  EXPECT_EQ(pool->submit(worker_pid).result(), worker) << "the child disturbed the worker";
  for (int i = 0; i < 20; ++i) EXPECT_EQ(pool->submit(square, i).result(), i * i);
}

// ---- #4: descriptors and subprocesses of tasks ----

TEST(ProcessPoolFds, WorkerHoldsOnlyItsSocketAndItIsCloseOnExec) {
  int leaky[2];  // the program's own descriptors without close-on-exec
  ASSERT_EQ(::pipe(leaky), 0);
  Cleanup close_pipe{[&] {
    ::close(leaky[0]);
    ::close(leaky[1]);
  }};
  ProcessPoolExecutor pool(1);
  const auto fds = pool.submit(worker_fds).result();
  ASSERT_EQ(fds.size(), 1u) << "a worker holds its socket and nothing else of the program";
  EXPECT_TRUE(fds[0].second) << "the worker's socket (fd " << fds[0].first
                             << ") must be close-on-exec";
}

TEST(ProcessPoolFds, EveryDescriptorOfThePoolInTheParentIsCloseOnExec) {
  auto open_fds = [] {
    std::set<int> s;
    DIR* d = ::opendir("/proc/self/fd");
    const int own = ::dirfd(d);
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.' && std::atoi(e->d_name) != own) s.insert(std::atoi(e->d_name));
    ::closedir(d);
    return s;
  };
  FifoGate gate;
  const std::set<int> at_start = open_fds();
  {
    ProcessPoolExecutor warm_up(1);  // starts the program's fork server, if none runs yet
    ASSERT_EQ(warm_up.submit(square, 2).result(), 4);
  }
  const std::set<int> before = open_fds();
  EXPECT_LE(before.size(), at_start.size() + 1) << "at most the fork server's socket stays open";
  ProcessPoolExecutor pool(3);
  std::vector<Future<int>> fs;
  for (int i = 0; i < 3; ++i) fs.push_back(pool.submit(wait_gate_then_pid, gate.path()));
  ASSERT_EQ(gate.wait_started(3).size(), 3u) << "three workers run a task at once";
  gate.release(3);
  for (auto& f : fs) EXPECT_GT(f.result(), 0);
  int checked = 0;
  for (int fd : open_fds()) {
    if (at_start.contains(fd)) continue;
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "fd " << fd;
    if (!before.contains(fd)) ++checked;
  }
  EXPECT_EQ(checked, 4) << "the pool's eventfd and three worker sockets";
}

TEST(ProcessPoolFds, CrashIsSeenAtOnceWhileASubprocessOfTheTaskLivesOn) {
  int sleeper = -1;
  Cleanup kill_sleeper{[&] {
    if (sleeper > 0) ::kill(sleeper, SIGKILL);
  }};
  {
    ProcessPoolExecutor pool(1);
    // The sleeper must be gone before the pool's destructor on the failure path (the
    // pool waits for its worker's socket), so the pool lives in an inner scope whose
    // guard kills it first.
    Cleanup kill_first{[&] {
      if (sleeper > 0) ::kill(sleeper, SIGKILL);
    }};
    sleeper = pool.submit(spawn_sleeper).result();
    ASSERT_GT(sleeper, 0);
    auto doomed = pool.submit(die_by_sigkill, 0);
    std::exception_ptr e;
    ASSERT_NO_THROW(e = doomed.exception(kPatience))
        << "the crash was not reported while the task's subprocess lives";
    EXPECT_THROW(std::rethrow_exception(e), weft::BrokenProcessPool);
    EXPECT_EQ(pool.submit(square, 5).result(), 25) << "the pool keeps serving";
    pool.shutdown(true);  // with the sleeper still alive: must not wait for it
    EXPECT_EQ(::kill(sleeper, 0), 0) << "the sleeper lived through the shutdown";
  }
}

// ---- #5: a frozen worker ----

TEST(ProcessPoolFrozen, StoppedWorkerStallsNeitherSubmitNorTheOtherWorkers) {
  ProcessPoolExecutor pool(2);
  // Both workers up, and the one that became idle last (the next one given a task) is
  // known: two tasks running at once, each on its own gate, released one after the other.
  int live = -1, frozen = -1;
  {
    FifoGate first, second;
    auto a = pool.submit(wait_gate_then_pid, first.path());
    auto b = pool.submit(wait_gate_then_pid, second.path());
    ASSERT_EQ(first.wait_started(1).size(), 1u);
    ASSERT_EQ(second.wait_started(1).size(), 1u);
    first.release(1);
    live = a.result();
    second.release(1);
    frozen = b.result();
    ASSERT_GT(live, 0);
    ASSERT_GT(frozen, 0);
    ASSERT_NE(live, frozen);
  }
  ASSERT_EQ(::kill(frozen, SIGSTOP), 0);
  weft::Event submitted;
  std::vector<Future<std::size_t>> big;
  std::vector<Future<int>> small;
  std::thread submitter;
  Cleanup thaw{[&] {
    ::kill(frozen, SIGCONT);  // first: unblocks a submit stuck on the frozen worker
    if (submitter.joinable()) submitter.join();
  }};
  submitter = std::thread([&] {
    const std::string arg(8u << 20, 'x');
    big.push_back(pool.submit(length_of, arg));  // to the frozen worker, idle last
    big.push_back(pool.submit(length_of, arg));
    for (int i = 0; i < 20; ++i) small.push_back(pool.submit(square, i));
    submitted.set();
  });
  ASSERT_TRUE(submitted.wait(kPatience)) << "submit() blocked on a stopped worker";
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(small[static_cast<std::size_t>(i)].result(kPatience), i * i)
        << "the live worker went on with other tasks";
  EXPECT_EQ(big[1].result(kPatience), 8u << 20) << "the live worker took the second 8 MB task";
  EXPECT_FALSE(big[0].done()) << "the frozen worker's task waits for it";
  ASSERT_EQ(::kill(frozen, SIGCONT), 0);
  EXPECT_EQ(big[0].result(kPatience), 8u << 20);
}

// ---- a busy pool thread: new workers start their tasks, idle ones exit at shutdown ----

// Holds a pool's thread in a done callback until release(): a gated task runs on one
// worker, the callback is added while it runs, then the task is let go. Declare it before
// the pool (its callback refers to it) and release it before the pool is destroyed.
struct PoolThreadHold {
  FifoGate gate;
  weft::Event in_callback, leave_callback;
  std::optional<Future<int>> held;  // the gated task: done once engaged

  void engage(ProcessPoolExecutor& pool) {
    held = pool.submit(wait_gate_then_pid, gate.path());
    ASSERT_EQ(gate.wait_started(1).size(), 1u);
    held->add_done_callback([this](Future<int>) {
      in_callback.set();
      leave_callback.wait();
    });
    gate.release(1);
    ASSERT_TRUE(in_callback.wait(kPatience)) << "the done callback runs";
  }
  void release() { leave_callback.set(); }
};

TEST(ProcessPoolStart, ANewWorkerStartsItsTaskWhileThePoolsThreadRunsACallback) {
  PoolThreadHold hold;
  ProcessPoolExecutor pool(2);
  Cleanup let_go{[&] { hold.release(); }};
  FifoGate busy_gate, new_gate;
  ASSERT_NO_FATAL_FAILURE(hold.engage(pool));
  // The idle worker takes the next task from submit itself; the one after needs a
  // second worker, which submit starts.
  auto busy = pool.submit(wait_gate_then_pid, busy_gate.path());
  ASSERT_EQ(busy_gate.wait_started(1).size(), 1u) << "an idle worker gets its task from submit";
  auto on_new = pool.submit(wait_gate_then_pid, new_gate.path());
  EXPECT_EQ(new_gate.wait_started(1).size(), 1u)
      << "the worker started for the task runs it while the pool's thread is busy";
  hold.release();
  busy_gate.release(1);
  new_gate.release(1);
  EXPECT_GT(hold.held->result(kPatience), 0);
  EXPECT_GT(busy.result(kPatience), 0);
  EXPECT_GT(on_new.result(kPatience), 0);
  EXPECT_NE(busy.result(), on_new.result()) << "two workers";
}

// The state letter of process `pid` in /proc/PID/stat ('Z': exited, not reaped yet); 0
// if it is gone.
char process_state(int pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return 0;
  char text[512] = "";
  const std::size_t n = std::fread(text, 1, sizeof text - 1, f);
  std::fclose(f);
  text[n] = '\0';
  const char* close_paren = std::strrchr(text, ')');
  return close_paren != nullptr && close_paren[1] == ' ' ? close_paren[2] : 0;
}

TEST(ProcessPoolStart, ShutdownTellsIdleWorkersToExitWhileThePoolsThreadRunsACallback) {
  PoolThreadHold hold;
  ProcessPoolExecutor pool(1);
  Cleanup let_go{[&] { hold.release(); }};
  ASSERT_NO_FATAL_FAILURE(hold.engage(pool));
  const int worker = hold.held->result();
  ASSERT_GT(worker, 0);
  pool.shutdown(false);
  // The pool's thread, held in the callback, cannot reap the worker: it stays a zombie.
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (process_state(worker) != 'Z' && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(process_state(worker), 'Z') << "the idle worker exits at shutdown";
}

// ---- #7: destroyed from its own done callback ----

void destroy_from_callback() {
  auto pool = std::make_unique<ProcessPoolExecutor>(1);
  FifoGate gate;
  auto f = pool->submit(wait_gate_then_pid, gate.path());
  weft::Event destroyed;
  f.add_done_callback([&](Future<int>) {
    pool.reset();
    destroyed.set();
  });
  gate.release(1);
  require(destroyed.wait(kPatience), "the callback finished");
  require(f.result() > 0, "the task ran");
  // A new pool in the same process works (the old one cleans up on its own).
  ProcessPoolExecutor again(1);
  require(again.submit(square, 6).result() == 36, "a new pool works");
}

TEST(ProcessPoolCallbacks, DestroyedFromItsOwnDoneCallback) {
  WEFT_IN_CHILD(&destroy_from_callback);
}

// ---- #10, #13: exhaustion ----

// While no new worker can be started (exhaust() until restore()), queued tasks run on
// the live worker; afterwards the pool starts workers again.
void queued_tasks_run_on_the_live_worker(void (*exhaust)(), void (*restore)()) {
  ProcessPoolExecutor pool(4);
  require(pool.submit(square, 2).result() == 4, "one worker started");
  FifoGate gate;  // keeps the worker busy: each submit below wants a new worker
  auto busy = pool.submit(wait_gate_then_pid, gate.path());
  require(gate.wait_started(1).size() == 1, "the gated task started");
  exhaust();
  std::vector<Future<int>> fs;
  for (int i = 0; i < 6; ++i) fs.push_back(pool.submit(square, i));
  gate.release(1);
  require(busy.result(kPatience) > 0, "the gated task ran");
  for (int i = 0; i < 6; ++i)
    require(fs[static_cast<std::size_t>(i)].result(kPatience) == i * i,
            "a queued task runs on the live worker though no new one can start");
  restore();
  require_grows_to(pool, 3);
}

TEST(ProcessPoolExhaustion, NoDescriptorsWhileAWorkerLives) {
  WEFT_IN_CHILD([] { queued_tasks_run_on_the_live_worker(exhaust_descriptors, restore_descriptors); });
}

// Whether `e` is a weft::RuntimeError but not a BrokenProcessPool, whose what() has `text`.
bool runtime_error_saying(std::exception_ptr e, const char* text, bool broken) {
  try {
    std::rethrow_exception(e);
  } catch (const weft::BrokenProcessPool& x) {
    return broken && std::string(x.what()).find(text) != std::string::npos;
  } catch (const weft::RuntimeError& x) {
    return !broken && std::string(x.what()).find(text) != std::string::npos;
  } catch (...) {
  }
  return false;
}

// (The exceptions are looked at once the limit is lifted: see exhaust_descriptors.)
void no_descriptors_and_no_worker() {
  ProcessPoolExecutor pool(2);
  exhaust_descriptors();
  std::exception_ptr error;
  try {
    (void)pool.submit(square, 3);
  } catch (...) {
    error = std::current_exception();
  }
  restore_descriptors();
  require(error != nullptr, "submit must throw when no worker can be started and none lives");
  require(runtime_error_saying(error, "Too many open files", false),
          "a RuntimeError with the reason (the pool is not broken)");
  require(pool.submit(square, 3).result(kPatience) == 9, "submit works once the limit is lifted");
  require_grows_to(pool, 2);
}

TEST(ProcessPoolExhaustion, NoDescriptorsAndNoWorkerThrowsFromSubmitThenRecovers) {
  WEFT_IN_CHILD(&no_descriptors_and_no_worker);
}

void stranded_tasks_fail_then_recover() {
  // One task per worker: the worker exits after each task and must be replaced.
  ProcessPoolExecutor pool(1, weft::ProcessPoolOptions{nullptr, 1});
  FifoGate gate;
  auto first = pool.submit(wait_gate_then_pid, gate.path());
  std::vector<Future<int>> queued;
  for (int i = 0; i < 3; ++i) queued.push_back(pool.submit(square, i));
  exhaust_descriptors();
  gate.release(1);
  require(first.result(kPatience) > 0, "the first task ran");
  std::vector<std::exception_ptr> errors;
  for (auto& f : queued) errors.push_back(f.exception(kPatience));
  restore_descriptors();
  for (auto& e : errors)
    require(runtime_error_saying(e, "no worker process was left", true),
            "a task with no worker to run it fails with BrokenProcessPool");
  require(pool.submit(square, 4).result(kPatience) == 16, "the pool is not broken");
}

TEST(ProcessPoolExhaustion, QueuedTasksWithNoWorkerLeftFailAfterRetriesAndThePoolRecovers) {
  WEFT_IN_CHILD(&stranded_tasks_fail_then_recover);
}

TEST(ProcessPoolExhaustion, NoProcessesWhileAWorkerLives) {
  WEFT_IN_CHILD([] { queued_tasks_run_on_the_live_worker(exhaust_processes, restore_processes); });
}

void no_thread_for_the_pool() {
  ProcessPoolExecutor pool(1);
  exhaust_processes();
  std::exception_ptr error;
  try {
    (void)pool.submit(square, 3);
  } catch (...) {
    error = std::current_exception();
  }
  restore_processes();
  require(error != nullptr, "submit must throw when the pool's thread cannot start");
  require(runtime_error_saying(error, "can't start new thread", false),
          "weft::RuntimeError(\"can't start new thread\"), not std::system_error");
  require(pool.submit(square, 3).result(kPatience) == 9, "submit works once threads can start");
}

TEST(ProcessPoolExhaustion, NoThreadGivesCantStartNewThread) {
  WEFT_IN_CHILD(&no_thread_for_the_pool);
}

}  // namespace
