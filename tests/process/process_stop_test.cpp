// SPDX-License-Identifier: Apache-2.0
// Stopping a wait on a process pool (#13): Future::result, map iteration and
// shutdown(wait=true) honour a CancelScope, a Timeout, Thread::request_stop and Ctrl-C,
// also when the wait is already blocked; the abandoned wait leaves the task and the pool
// as they were (the task still runs, its future still completes, the pool still serves).
// Tasks are held by a named pipe (a gate), never by time.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "process/worker_functions.hpp"
#include "support/blocking.hpp"
#include "weft/cancel.hpp"
#include "weft/process.hpp"
#include "weft/thread.hpp"

namespace {

using namespace std::chrono_literals;
using weft::ProcessPoolExecutor;

// In a worker: blocks until the gate at `path` lets one task through; returns 1.
int pass_gate(std::string path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char byte = 0;
  const ssize_t k = ::read(fd, &byte, 1);
  ::close(fd);
  return k == 1 ? 1 : -1;
}

using weft_process_tests::square;

// A named pipe that holds pass_gate tasks until release(); the destructor lets every
// task through (a failed assertion never leaves a worker blocked).
class Gate {
 public:
  Gate() {
    char dir[] = "/tmp/weft-stop-XXXXXX";
    if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = dir;
    path_ = dir_ + "/gate";
    if (::mkfifo(path_.c_str(), 0600) != 0) throw std::runtime_error("mkfifo");
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);  // O_RDWR: never blocks
    if (fd_ < 0) throw std::runtime_error("open fifo");
  }
  ~Gate() {
    release(64);
    ::close(fd_);
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  const std::string& path() const { return path_; }
  void release(int n) {
    const std::string bytes(static_cast<std::size_t>(n), 'x');
    [[maybe_unused]] ssize_t k = ::write(fd_, bytes.data(), bytes.size());
  }

 private:
  std::string dir_, path_;
  int fd_ = -1;
};

// The waits under test, each on a task held by `gate`.
enum class Wait { kResult, kMap, kShutdown };

struct Held {
  Gate gate;
  ProcessPoolExecutor pool{1};
  weft::Future<int> task = pool.submit(pass_gate, gate.path());
};

// Runs the wait `w` on h's held task (nothing else of the pool is used).
void wait_on(Held& h, Wait w) {
  switch (w) {
    case Wait::kResult:
      (void)h.task.result();
      break;
    case Wait::kMap:
      for (int x : h.pool.map(pass_gate, std::vector<std::string>{h.gate.path()})) (void)x;
      break;
    case Wait::kShutdown:
      h.pool.shutdown(true);
      break;
  }
}

// After a stopped wait: the task was not disturbed and the pool keeps its state.
void expect_intact(Held& h, Wait w) {
  EXPECT_FALSE(h.task.done()) << "the task waits for its gate";
  h.gate.release(2);
  EXPECT_EQ(h.task.result(), 1) << "the stopped wait left the task running";
  if (w == Wait::kShutdown) {
    EXPECT_THROW((void)h.pool.submit(square, 2), weft::RuntimeError) << "the pool is shut down";
    h.pool.shutdown(true);
  } else {
    EXPECT_EQ(h.pool.submit(square, 3).result(), 9) << "the pool keeps serving";
  }
}

// Runs body; if it has not returned after a bound far beyond what a correct wait needs
// (a wait that ignores its stop), the gate opens so that body returns and the test fails
// instead of hanging.
template <class Body>
void with_rescue(Held& h, Body&& body) {
  const bool rescued = weft::testing::run_with_rescue(body, [&] { h.gate.release(2); });
  EXPECT_FALSE(rescued) << "the wait ignored its stop; the gate had to be opened";
}

class ProcessPoolStop : public ::testing::TestWithParam<Wait> {};

TEST_P(ProcessPoolStop, CancelScopeWakesABlockedWait) {
  Held h;
  std::stop_source stop;
  with_rescue(h, [&] {
    weft::testing::expect_blocks_until(
        [&] {
          weft::CancelScope scope(stop.get_token());
          EXPECT_THROW(wait_on(h, GetParam()), weft::CancelledError);
        },
        [&] { stop.request_stop(); });
  });
  expect_intact(h, GetParam());
}

TEST_P(ProcessPoolStop, TimeoutScopeEndsTheWait) {
  Held h;
  with_rescue(h, [&] {
    weft::Timeout budget(20ms);
    EXPECT_THROW(wait_on(h, GetParam()), weft::TimeoutError);
  });
  expect_intact(h, GetParam());
}

TEST_P(ProcessPoolStop, ThreadRequestStopWakesABlockedWait) {
  Held h;
  bool cancelled = false;
  weft::Thread waiter([&] {
    try {
      wait_on(h, GetParam());
    } catch (const weft::CancelledError&) {
      cancelled = true;
      throw;  // ends the thread quietly, as request_stop() promises
    }
  });
  with_rescue(h, [&] {
    waiter.start();
    EXPECT_TRUE(weft::testing::wait_until_parked(*waiter.ident())) << "the wait never blocked";
    waiter.request_stop();
    waiter.join();
  });
  EXPECT_TRUE(cancelled) << "the wait threw CancelledError";
  expect_intact(h, GetParam());
}

// In a child process (the main thread's Ctrl-C): exits 0 when the blocked wait threw
// KeyboardInterrupt and the pool was intact afterwards.
void ctrl_c_ends_a_blocked_wait(Wait w) {
  weft::install_keyboard_interrupt();
  bool interrupted = false;
  {
    Held h;
    with_rescue(h, [&] {
      weft::testing::expect_blocks_until(
          [&] {
            try {
              wait_on(h, w);
            } catch (const weft::KeyboardInterrupt&) {
              interrupted = true;
            }
          },
          [] { ::kill(::getpid(), SIGINT); });
    });
    expect_intact(h, w);
  }
  std::_Exit(interrupted && !::testing::Test::HasFailure() ? 0 : 1);
}

TEST_P(ProcessPoolStop, CtrlCWakesABlockedWaitInTheMainThread) {
  WEFT_SKIP_CTRL_C_UNDER_TSAN();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(ctrl_c_ends_a_blocked_wait(GetParam()), ::testing::ExitedWithCode(0), "");
}

INSTANTIATE_TEST_SUITE_P(Waits, ProcessPoolStop,
                         ::testing::Values(Wait::kResult, Wait::kMap, Wait::kShutdown),
                         [](const ::testing::TestParamInfo<Wait>& i) {
                           switch (i.param) {
                             case Wait::kResult: return std::string("FutureResult");
                             case Wait::kMap: return std::string("MapIteration");
                             case Wait::kShutdown: return std::string("ShutdownWait");
                           }
                           return std::string("?");
                         });

}  // namespace
