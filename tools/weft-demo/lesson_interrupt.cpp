// SPDX-License-Identifier: Apache-2.0
// The interrupt lesson: Ctrl-C stops a main thread blocked in Queue::get() with
// KeyboardInterrupt, as Python's does (beyond the guide: Python's default SIGINT handling).
// A child process (weft-demo re-executed with the hidden sub-command interrupt-child) blocks
// in q.get(); the lesson sends it SIGINT and reads what it reports.
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>
#include <weft/cancel.hpp>
#include <weft/errors.hpp>
#include <weft/queue.hpp>
#include <weft/thread.hpp>

#include "tour.hpp"

extern char** environ;

namespace tour {
namespace {

// The child prints this line when it blocks in q.get(); then the parent sends SIGINT.
constexpr const char* kBlocking = "main: blocking in q.get(), queue empty";
// The child reports the steady clock (CLOCK_MONOTONIC, shared by every process) when the
// exception reached its handler, on a line the parent reads but does not show.
constexpr const char* kCaughtAt = "@caught_at_ns ";

long long monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// The child: Python's
//   q = queue.Queue()
//   try: q.get()
//   except KeyboardInterrupt: print("KeyboardInterrupt caught")
// plus a worker thread blocked on the same queue (only the main thread gets the interrupt),
// and the queue used again afterwards.
int run_interrupt_child(bool) {
  alarm(60);  // were the interrupt lost, SIGALRM ends the child (and the lesson shows it)
  weft::install_keyboard_interrupt();
  weft::Queue<int> q;
  weft::Thread worker([&q] {
    const int item = q.get();
    say(fmt("worker: got %d (not interrupted)", item));
  });
  worker.start();
  say(kBlocking);
  try {
    const int item = q.get();
    say(fmt("main: q.get() returned %d without an interrupt", item));
    q.put(0);  // lets the worker finish, so that the child exits (with status 1)
    return 1;
  } catch (const weft::KeyboardInterrupt& e) {
    const long long caught = monotonic_ns();
    say(kCaughtAt + std::to_string(caught));
    say(std::string("main: ") + e.what() + " caught, qsize " + std::to_string(q.qsize()));
  }
  q.put(1);  // the worker's item
  worker.join();
  q.put(2);
  const int again = q.get();
  say(fmt("main: put 2, got %d, qsize %zu", again, q.qsize()));
  return 0;
}

const bool interrupt_child_registered = (interrupt_child = run_interrupt_child, true);

// One run of the child: its lines (without the timestamp), exit status and the time from
// kill(SIGINT) to the exception in the child (-1 if not reported).
struct ChildRun {
  bool started = false, timed_out = false;
  std::vector<std::string> lines;
  int status = -1;
  double latency_us = -1;
};

// Reads one line from `fd` into `line` within `timeout_ms`; false at end of file or timeout.
bool read_line(int fd, std::string& pending, std::string& line, int timeout_ms, bool& timed_out) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto nl = pending.find('\n');
    if (nl != std::string::npos) {
      line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      return true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      timed_out = true;
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[512];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    pending.append(buf, static_cast<std::size_t>(n));
  }
}

ChildRun run_child(const std::string& self) {
  ChildRun run;
  int out[2];
  if (pipe(out) != 0) return run;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addclose(&actions, out[1]);
  std::string arg0 = self, arg1 = "interrupt-child";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (spawned != 0) {
    close(out[0]);
    return run;
  }
  run.started = true;
  constexpr int kTimeoutMs = 20000;  // generous: a loaded machine, a sanitizer build
  std::string pending, line;
  long long sent = -1;
  while (read_line(out[0], pending, line, kTimeoutMs, run.timed_out)) {
    if (line.rfind(kCaughtAt, 0) == 0) {
      if (sent >= 0) run.latency_us = (std::stoll(line.substr(std::string(kCaughtAt).size())) - sent) / 1e3;
      continue;
    }
    run.lines.push_back(line);
    if (line == kBlocking && sent < 0) {
      // The child may not be parked yet: a signal that comes first stays pending until
      // its get() and is thrown there, so the outcome is the same; the pause only makes
      // the measured time that of waking a parked thread.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      sent = monotonic_ns();
      kill(pid, SIGINT);
    }
  }
  if (run.timed_out) kill(pid, SIGKILL);
  close(out[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) == pid) run.status = status;
  return run;
}

void interrupt(Lesson& L) {
  const int runs = L.quick() ? 1 : 5;
  L.expect_seconds(0.5 * runs);
  std::vector<ChildRun> children;
  const Quietness during = L.measure([&] {
    children.clear();
    for (int i = 0; i < runs; ++i) {
      children.push_back(run_child(L.settings().self_path));
      L.progress(double(i + 1) / runs);
      if (!children.back().started) break;
    }
  });
  const ChildRun& first = children.front();
  if (!first.started) {
    L.check("the child process starts", false, L.settings().self_path + " interrupt-child");
    return;
  }
  for (const auto& line : first.lines) L.print(line);
  L.python({"main: blocking in q.get(), queue empty", "main: KeyboardInterrupt caught, qsize 0",
            "worker: got 1 (not interrupted)",
            "main: put 2, got 2, qsize 0"});
  std::vector<double> latencies;
  bool all_caught = true, all_exited = true;
  for (const auto& c : children) {
    if (c.latency_us >= 0) latencies.push_back(c.latency_us);
    else all_caught = false;
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) all_exited = false;
  }
  std::sort(latencies.begin(), latencies.end());
  const double median = latencies.empty() ? -1 : latencies[latencies.size() / 2];
  const double worst = latencies.empty() ? -1 : latencies.back();
  if (!latencies.empty()) {
    L.print("SIGINT to KeyboardInterrupt, in the child:");
    L.print(fmt("  median %.0f us, worst %.0f us (%zu run%s)", median, worst, latencies.size(),
                latencies.size() == 1 ? "" : "s"));
  }
  L.explain(
      "The left column is a child process (weft-demo re-executed with a hidden sub-command). "
      "It calls weft::install_keyboard_interrupt() (or runs with WEFT_SIGINT=raise), starts a "
      "worker thread that blocks in q.get(), then blocks in q.get() itself; the lesson sends it "
      "SIGINT, as Ctrl-C in a terminal does. As in Python, the main thread's blocked call throws "
      "weft::KeyboardInterrupt (not a weft::Error, as Python's is not an Exception), the queue "
      "is left as it was (the interrupted get took nothing), and other threads keep waiting: "
      "the worker gets the next item. The signal handler only sets a flag and wakes the main "
      "thread; the time printed runs from kill() in this process to the catch in the child. "
      "Without the handler, SIGINT keeps its default action and ends the process.");
  const bool caught = std::any_of(first.lines.begin(), first.lines.end(), [](const std::string& s) {
    return s == "main: KeyboardInterrupt caught, qsize 0";
  });
  L.check("SIGINT makes the main thread's blocked q.get() throw KeyboardInterrupt",
          caught && all_caught,
          first.timed_out ? "the child did not finish in 20 s" : fmt("%zu of %zu runs", latencies.size(), children.size()));
  L.check("the interrupted get took nothing: the queue is intact and still works",
          L.printed_in_order({"main: KeyboardInterrupt caught, qsize 0",
                              "main: put 2, got 2, qsize 0"}));
  L.check("only the main thread is interrupted: the worker's get() waits for the next item",
          L.printed_in_order({"main: KeyboardInterrupt caught, qsize 0",
                              "worker: got 1 (not interrupted)"}));
  L.check("the child exits normally after handling the interrupt", all_exited,
          WIFEXITED(first.status) ? fmt("exit status %d", WEXITSTATUS(first.status))
          : WIFSIGNALED(first.status) ? fmt("killed by signal %d", WTERMSIG(first.status))
                                      : std::string("not reaped"));
  L.claim("the interrupt arrives promptly (median under 10 ms)", median >= 0 && median < 10000,
          fmt("median %.0f us, worst %.0f us", median, worst), during);
}

}  // namespace

TOUR_LESSON("interrupt", interrupt);

}  // namespace tour
