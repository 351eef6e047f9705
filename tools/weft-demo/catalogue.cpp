// SPDX-License-Identifier: Apache-2.0
// tools/weft-demo/catalogue.cpp: the lessons of the tour, in order, and their registration.
//
// Adding a lesson: write its file (lesson_NAME.cpp or lessons_TOPIC.cpp, built when every
// <weft/...> header it includes exists) ending in TOUR_LESSON("name", fn), and add its line
// below, where it falls in the tour. Nothing else lists lessons: the build finds the file,
// and tests/tour runs every lesson `weft-demo --list` names.
#include <cstdio>
#include <cstdlib>
#include <ostream>

#include "text.hpp"
#include "tour.hpp"

namespace tour {

std::vector<Entry>& catalogue() {
  // The order of the tour: the guide's order, then what it names without showing.
  static std::vector<Entry> entries = {
      {"race", "Shared memory without a lock: lost updates", "Core patterns 1", "Thread"},
      {"lock", "Lock: the counter protected", "Core patterns 2", "Thread, Lock"},
      {"queue", "Queue: producer and consumer with a None sentinel", "Core patterns 3",
       "Thread, Queue"},
      {"event", "Event: signalling between threads", "Core patterns 4", "Thread, Event"},
      {"condition", "Condition: wait until data is ready", "Core patterns 5",
       "Thread, Condition"},
      {"semaphore", "Semaphore(2): at most two threads inside", "Core patterns 6",
       "Thread, Semaphore"},
      {"task-done", "Queue producer/consumer with task_done", "Communication 1",
       "Thread, Queue"},
      {"bounded-queue", "Queue(maxsize=3)", "Communication 1", "Queue"},
      {"event-signal", "Event: one thread waits, another signals", "Communication 2",
       "Thread, Event"},
      {"race-two", "The race with two threads", "Communication 3", "Thread"},
      {"acquire-release", "The race fixed with acquire()/release()", "Communication 3",
       "Thread, Lock"},
      {"with-lock", "`with lock:` is a scoped lock", "Communication 3", "Lock"},
      {"condition-notify", "Condition: wait and notify an item", "Communication 4",
       "Thread, Condition"},
      {"semaphore-resource", "Semaphore(2) guarding a resource", "Communication 5",
       "Thread, Semaphore"},
      {"daemon", "Daemon threads are abandoned at exit, others joined", "Daemon threads",
       "Thread"},
      {"rlock", "RLock: a lock its owner may take again", "named by the guide",
       "Thread, RLock"},
      {"barrier", "Barrier: threads meet before each phase", "named by the guide",
       "Thread, Barrier"},
      {"timer", "Timer: run later, or cancel", "named by the guide", "Timer"},
      {"pool", "ThreadPoolExecutor and as_completed", "named by the guide",
       "ThreadPoolExecutor"},
      {"process-pool", "A process pool for CPU-bound work", "named by the guide",
       "ProcessPoolExecutor"},
      {"interrupt", "Ctrl-C: KeyboardInterrupt out of a blocked Queue::get()",
       "Python's KeyboardInterrupt", "Queue, install_keyboard_interrupt"},
      {"food-delivery", "Food delivery: producer-consumer", "Real-life examples",
       "Thread, Queue"},
      {"traffic-signal", "Traffic signal: Event", "Real-life examples", "Thread, Event"},
      {"bank-transfer", "Bank transaction: Lock", "Real-life examples", "Thread, Lock"},
      {"printer", "Printer access: Semaphore", "Real-life examples", "Thread, Semaphore"},
      {"gil", "gil_demo.py: CPU vs I/O-bound, threads vs processes, GIL or not",
       "Understanding GIL", "Thread, Lock, ProcessPoolExecutor"},
      {"http", "A real I/O workload: 50 URLs, sequential vs ThreadPoolExecutor(8)",
       "Real applications", "ThreadPoolExecutor, cpp-httplib"},
      {"cluster", "Beyond one machine: tasks on Redis, a worker killed mid-task",
       "Real applications", "weft::dist (hiredis), cpp-httplib, redis-server"},
  };
  return entries;
}

ChildFn daemon_child = nullptr;
ChildFn interrupt_child = nullptr;
ClusterWorkerFn cluster_worker = nullptr;

Register::Register(const char* name, LessonFn fn) {
  for (auto& e : catalogue())
    if (e.name == name) {
      e.fn = fn;
      return;
    }
  std::fprintf(stderr, "weft-demo: lesson '%s' is missing from the catalogue\n", name);
  std::abort();
}

void list(std::ostream& out) {
  for (auto& e : catalogue())
    out << pad(e.name, 19) << ' ' << e.title
        << (e.fn ? "" : "  [not built: needs " + e.needs + "]") << "\n";
}

}  // namespace tour
