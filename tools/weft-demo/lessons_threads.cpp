// SPDX-License-Identifier: Apache-2.0
// Lessons on Thread and Lock: the race, the lock, the guide's two-thread versions, the
// `with lock:` form, and daemon threads (which re-executes weft-demo as a child process).
// Each lesson translates the guide's example (the full translations are in examples/).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <mutex>
#include <sys/wait.h>
#include <thread>
#include <weft/errors.hpp>
#include <weft/threading.hpp>

#include "tour.hpp"

namespace tour {
namespace {

// Runs the guide's unlocked counter with `threads` threads of `iterations` increments.
// counter += 1 is written as a relaxed atomic load then a relaxed store: the same
// read-modify-write race as Python's, but defined behaviour in C++ (a plain int would
// be a data race, undefined behaviour, which ThreadSanitizer reports).
long racy_count(int threads, int iterations) {
  std::atomic<long> counter{0};
  // Not in the guide: the threads meet at a Barrier first, so that they run at the same
  // time (starting a thread takes about as long as 100000 increments in C++).
  weft::Barrier start(static_cast<std::size_t>(threads));
  auto worker = [&] {
    start.wait();
    for (int i = 0; i < iterations; ++i) {
      const long seen = counter.load(std::memory_order_relaxed);  // read counter
      counter.store(seen + 1, std::memory_order_relaxed);         // write counter + 1
    }
  };
  std::deque<weft::Thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker).start();
  for (auto& t : pool) t.join();
  return counter.load();
}

void race_lesson(Lesson& L, int threads, const char* python_expected) {
  const int iterations = 100000;  // the guide's
  const int runs = L.quick() ? 3 : 5;
  // The guide's runs first. On a busy machine the threads may take turns on the cores and
  // rarely interleave within 100000 increments (about 0.1 ms of C++); then the same runs
  // are repeated with loops 10 and 100 times longer, long enough for the scheduler to
  // interrupt a thread between its read and its write.
  int scale = 1, losing = 0, runs_losing_at_all = 0, runs_done = 0;
  long lost_total = 0;
  const Quietness load = L.measure([&] {
    scale = 1;
    losing = runs_losing_at_all = runs_done = 0;
    lost_total = 0;
    for (; scale <= 100; scale *= 10) {
      losing = 0;
      for (int run = 0; run < runs; ++run) {
        const long expected = static_cast<long>(threads) * iterations * scale;
        const long counter = racy_count(threads, iterations * scale);
        const long lost = expected - counter;
        losing += lost > 0 ? 1 : 0;
        lost_total += lost;
        ++runs_done;
        if (scale == 1) L.print(threads == 5 ? fmt("Counter: %ld", counter) : fmt("%ld", counter));
        L.progress(static_cast<double>(run + 1) / runs);
      }
      runs_losing_at_all += losing;
      L.print(fmt("(%d increments per thread: %d of %d runs lost updates)", iterations * scale,
                  losing, runs));
      if (2 * losing > runs) break;
    }
  });
  scale = std::min(scale, 100);
  L.python({threads == 5 ? "Counter: <wrong, varies>" : "<less than 200000, varies>",
            python_expected});
  L.print(fmt("(%d runs: %ld updates lost in all)", runs_done, lost_total));
  L.explain(
      "Why: counter += 1 is three steps, read, add, write. Two threads that read the same "
      "value both write value + 1, and one increment is gone. In CPython the interpreter "
      "lock switches threads every 5 ms, sometimes between the read and the write; in C++ "
      "the threads run truly in parallel on the cores, so the two steps interleave far "
      "more often. This C++ writes the read and the write as two relaxed atomic operations: "
      "the program is well defined and still loses updates. With a plain int it would be a "
      "data race, which is undefined behaviour in C++: ThreadSanitizer "
      "(cmake -DWEFT_SANITIZE=thread) reports it as \"WARNING: ThreadSanitizer: data race\". "
      "The threads meet at a Barrier before counting, so that they run at the same time "
      "(starting a thread takes about as long as 100000 increments in C++). If most of the "
      "guide's runs lose nothing (on a busy machine the threads may run one after another), "
      "the runs are repeated with 10, then 100 times more increments per thread.");
  L.check("the count is never above the true number of increments", lost_total >= 0);
  if (std::thread::hardware_concurrency() > 1) {
    // Whether a race shows depends on the threads really running at once: judged like a
    // speed-up, in a full run on a machine that is not busy (other work on the cores makes
    // the threads take turns, and then nothing is lost).
    L.claim("without a lock, updates are lost", runs_losing_at_all > 0,
            fmt("%ld lost over %d runs", lost_total, runs_done), load);
    L.claim("updates are lost in most runs", 2 * losing > runs,
            fmt("%d of %d runs, %d increments per thread", losing, runs, iterations * scale), load);
  }
}

void race(Lesson& L) {
  race_lesson(L, 5, "# Output will be incorrect due to race condition (expected: 500000)");
}

void race_two(Lesson& L) {
  race_lesson(L, 2, "Output may be less than 200000 due to a race condition.");
}

// Core pattern 2: the counter protected with `with lock:`.
void lock(Lesson& L) {
  long counter = 0;  // a plain int: every access is under the lock
  weft::Lock lock;
  auto worker = [&] {
    for (int i = 0; i < 100000; ++i) {
      std::scoped_lock hold(lock);  // with lock:
      counter += 1;
    }
  };
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 5; ++i) {
    auto& t = threads.emplace_back(worker);
    t.start();
  }
  for (auto& t : threads) t.join();
  L.print(fmt("Counter: %ld", counter));
  L.python({"Counter: 500000"});
  L.explain(
      "`with lock:` becomes std::scoped_lock over a weft::Lock (weft::Lock is a standard "
      "Lockable): it acquires on entry and releases at the end of the block, also when an "
      "exception leaves it. The counter is a plain long: every access is under the lock, so "
      "there is no data race.");
  L.check("Counter: 500000", counter == 500000, fmt("Counter: %ld", counter));
}

// Communication 3: the same fix written with acquire() / release().
void acquire_release(Lesson& L) {
  long counter = 0;
  weft::Lock lock;
  auto increase = [&] {
    for (int i = 0; i < 100000; ++i) {
      lock.acquire();
      counter += 1;
      lock.release();
    }
  };
  weft::Thread t1(increase), t2(increase);
  t1.start();
  t2.start();
  t1.join();
  t2.join();
  L.print(fmt("%ld", counter));
  L.python({"200000"});
  L.explain(
      "acquire() and release() are the same calls as Python's. Prefer the scoped form: "
      "an exception between them would leave the lock held. release() of a Lock that is not "
      "locked throws weft::RuntimeError, as Python raises RuntimeError.");
  L.check("200000", counter == 200000, fmt("%ld", counter));
  bool threw = false;
  try {
    lock.release();
  } catch (const weft::RuntimeError&) {
    threw = true;
  }
  L.check("releasing an unlocked Lock raises RuntimeError", threw);
}

// Communication 3: `with lock: print("Critical section")`.
void with_lock(Lesson& L) {
  weft::Lock lock;
  bool held_inside = false;
  {
    std::scoped_lock hold(lock);  // with lock:
    L.print("Critical section");
    held_inside = lock.locked();
  }
  const bool released = !lock.locked();
  bool released_on_throw = false;
  try {
    std::scoped_lock hold(lock);
    throw std::runtime_error("raised inside the block");
  } catch (const std::runtime_error&) {
    released_on_throw = !lock.locked();
  }
  L.python({"Critical section"});
  L.explain(
      "Python's `with lock:` is C++'s std::scoped_lock hold(lock); (or std::unique_lock when "
      "the lock must be released early). The destructor releases it, exceptions included.");
  L.check("the lock is held inside the block", held_inside);
  L.check("the lock is released when the block ends", released);
  L.check("the lock is released when an exception leaves the block", released_on_throw);
}

// ---- daemon threads ----

// Runs in the child process: the guide's program, plus a non-daemon thread still running
// when main returns. Lines go straight to stdout (a pipe to the parent), one write each.
void say(const char* line) {
  std::printf("%s\n", line);
  std::fflush(stdout);
}

weft::Thread* g_background = nullptr;  // module-level, like the guide's `t`
weft::Thread* g_worker = nullptr;
weft::Event* g_main_returning = nullptr;

void daemon_lesson(Lesson& L) {
  const std::string cmd =
      "'" + L.settings().self_path + "' daemon-child" + (L.quick() ? " --quick" : "") + " 2>&1";
  const auto start = std::chrono::steady_clock::now();
  L.expect_seconds(4);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    L.check("the child process starts", false, cmd);
    return;
  }
  char buf[512];
  std::vector<std::string> child;
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) {
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    child.push_back(line);
    L.print(line);
  }
  const int status = pclose(pipe);
  const double took = seconds_since(start);
  L.python({"Running...", "Running...", "Running..."});
  auto index = [&](const std::string& s) {
    for (std::size_t i = 0; i < child.size(); ++i)
      if (child[i].rfind(s, 0) == 0) return static_cast<long>(i);
    return -1L;
  };
  int running = 0;
  for (auto& s : child) running += s == "Running..." ? 1 : 0;
  const long returned = index("main: returning");
  const long finished = index("worker (not daemon): finished");
  L.explain(
      "The left column is a child process (weft-demo re-executed with a hidden sub-command) "
      "running the guide's program: a daemon thread printing Running... forever, and main "
      "returning after time.sleep(3). The child also starts a non-daemon worker that is still "
      "running when main returns. As in Python, weft joins non-daemon threads when main returns "
      "(or exit() runs) and abandons daemon threads: the worker's last line appears after main "
      "returned, and the process exits although the daemon thread never ends. Python prints "
      "Running... three times; the exact count depends on timing.");
  L.check("the child exits normally, although its daemon thread never ends",
          WIFEXITED(status) && WEXITSTATUS(status) == 0,
          WIFEXITED(status) ? fmt("exit status %d after %.2f s", WEXITSTATUS(status), took)
                            : fmt("killed by signal %d", WTERMSIG(status)));
  L.check("the daemon thread ran in the background", running >= 1, fmt("Running... x%d", running));
  L.check("a non-daemon thread still running when main returns is joined before exit",
          returned >= 0 && finished > returned);
}

int run_daemon_child(bool quick) {
  alarm(30);  // were the daemon thread waited for, SIGALRM would end the child (and show it)
  const auto tick = quick ? std::chrono::milliseconds(50) : std::chrono::milliseconds(1000);
  // def background(): while True: print("Running..."); time.sleep(1)
  g_background = new weft::Thread([tick] {
    while (true) {
      say("Running...");
      std::this_thread::sleep_for(tick);
    }
  });
  g_background->set_daemon(true);  // t.daemon = True
  g_background->start();           // t.start()
  // Not in the guide: a non-daemon worker that finishes only after main has returned (it
  // waits for main's last line, then works for one more tick). Were it not joined at exit,
  // its last line would never be printed.
  g_main_returning = new weft::Event;
  g_worker = new weft::Thread([tick] {
    g_main_returning->wait();
    std::this_thread::sleep_for(tick);
    say("worker (not daemon): finished, so the process may exit");
  });
  g_worker->start();
  std::this_thread::sleep_for(tick * 3);  // time.sleep(3)
  say("main: returning (the daemon thread is still running)");
  g_main_returning->set();
  return 0;
}

const bool daemon_child_registered = (daemon_child = run_daemon_child, true);

}  // namespace

TOUR_LESSON("race", race);
TOUR_LESSON("lock", lock);
TOUR_LESSON("race-two", race_two);
TOUR_LESSON("acquire-release", acquire_release);
TOUR_LESSON("with-lock", with_lock);
TOUR_LESSON("daemon", daemon_lesson);

}  // namespace tour
