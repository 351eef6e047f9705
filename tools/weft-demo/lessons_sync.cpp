// SPDX-License-Identifier: Apache-2.0
// Lessons on Event, Condition, Semaphore, RLock, Barrier and Timer, and three of the
// guide's real-life cases (traffic signal, bank transaction, printer access).
// Each lesson translates the guide's example (the full translations are in examples/).
#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <weft/errors.hpp>
#include <weft/threading.hpp>

#include "tour.hpp"

namespace tour {
namespace {

using Clock = std::chrono::steady_clock;

// Counts the threads inside a region and remembers the most seen at once.
struct Occupancy {
  std::atomic<int> inside{0}, most{0};
  void enter() {
    const int now = inside.fetch_add(1) + 1;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
  }
  void leave() { inside.fetch_sub(1); }
};

// Core pattern 4.
void event(Lesson& L) {
  L.expect_seconds(2);
  weft::Event event;
  Clock::time_point set_at, received_at;
  auto waiting_thread = [&] {
    L.print("Waiting for event...");
    event.wait();  // Blocks until event is set
    received_at = Clock::now();
    L.print("Event received!");
  };
  auto signal_thread = [&] {
    L.sleep(2);
    L.print("Setting event");
    set_at = Clock::now();
    event.set();
  };
  weft::Thread t1(waiting_thread), t2(signal_thread);
  t1.start();
  t2.start();
  t1.join();
  t2.join();
  L.python({"Waiting for event...", "Setting event", "Event received!"});
  L.explain("event.wait() blocks (parked, no spinning) until another thread calls set(); "
            "wait() then returns true. A thread already waiting when set() runs is woken even "
            "if clear() follows at once.");
  L.check("the promised order: Waiting for event... / Setting event / Event received!",
          L.printed_in_order({"Waiting for event...", "Setting event", "Event received!"}));
  L.check("the waiter returned only after set()", received_at >= set_at);
}

// Communication 2: the same with time.sleep(3) and no join in the guide.
void event_signal(Lesson& L) {
  L.expect_seconds(3);
  weft::Event event;
  auto waiter = [&] {
    L.print("Waiting for signal...");
    event.wait();
    L.print("Signal received");
  };
  auto sender = [&] {
    L.sleep(3);
    L.print("Sending signal");
    event.set();
  };
  weft::Thread t1(waiter), t2(sender);
  t1.start();
  t2.start();
  t1.join();  // the guide does not join: Python joins non-daemon threads at exit
  t2.join();
  L.python({"Waiting for signal...", "Sending signal", "Signal received"});
  L.check("the promised order: Waiting for signal... / Sending signal / Signal received",
          L.printed_in_order({"Waiting for signal...", "Sending signal", "Signal received"}));
  L.check("is_set() is true after set()", event.is_set());
  event.clear();
  L.check("clear() resets it, and wait(0s) then returns false",
          !event.is_set() && !event.wait(std::chrono::seconds(0)));
}

// Core pattern 5.
void condition(Lesson& L) {
  L.expect_seconds(2);
  weft::Condition condition;
  bool data_ready = false;
  auto producer = [&] {
    L.sleep(2);
    std::scoped_lock hold(condition);  // with condition:
    data_ready = true;
    L.print("Data produced");
    condition.notify();  // Wake up waiting thread
  };
  auto consumer = [&] {
    std::scoped_lock hold(condition);
    while (!data_ready) {
      L.print("Waiting for data...");
      condition.wait();  // Release lock and wait
    }
    L.print("Data consumed");
  };
  weft::Thread t1(producer), t2(consumer);
  t2.start();  // Start consumer first (it will wait)
  t1.start();
  t1.join();
  t2.join();
  L.python({"Waiting for data...", "Data produced", "Data consumed"});
  L.explain("Condition() owns an RLock, as in Python; std::scoped_lock over the Condition "
            "is `with condition:`. wait() releases the lock while it waits and takes it back "
            "before returning. The while loop re-checks the data: a notify is not remembered "
            "and a waiter must always test its predicate (wait_for(pred) does the loop).");
  L.check("the promised order: Waiting for data... / Data produced / Data consumed",
          L.printed_in_order({"Waiting for data...", "Data produced", "Data consumed"}));
}

// Communication 4: consumer waits, producer appends and notifies.
void condition_notify(Lesson& L) {
  weft::Condition condition;
  std::vector<int> items;
  weft::Event consumer_holds;  // not in the guide: see the note
  auto consumer = [&] {
    std::scoped_lock hold(condition);
    L.print("Waiting for item");
    consumer_holds.set();
    condition.wait();
    L.print(fmt("Consumed: %d", items.back()));
    items.pop_back();
  };
  auto producer = [&] {
    std::scoped_lock hold(condition);
    items.push_back(100);
    L.print("Produced item");
    condition.notify();
  };
  weft::Thread t1(consumer), t2(producer);
  t1.start();
  consumer_holds.wait();
  t2.start();
  t1.join();
  t2.join();
  L.python({"Waiting for item", "Produced item", "Consumed: 100"});
  L.explain("The guide's version can hang: if the producer takes the condition first, its "
            "notify() finds no waiter and is lost (a notify is not remembered, in Python as in "
            "weft), and the consumer then waits forever. Here the producer starts only once "
            "the consumer holds the condition, so the consumer is waiting when notify() "
            "comes. The robust form is condition.wait_for([&] { return !items.empty(); }).");
  L.check("the promised order: Waiting for item / Produced item / Consumed: 100",
          L.printed_in_order({"Waiting for item", "Produced item", "Consumed: 100"}));
  bool threw = false;
  try {
    condition.notify();
  } catch (const weft::RuntimeError&) {
    threw = true;
  }
  L.check("notify() without holding the condition's lock raises RuntimeError", threw);
}

// Core pattern 6.
void semaphore(Lesson& L) {
  L.expect_seconds(6);
  weft::Semaphore sem(2);  // allows at most 2 threads to access simultaneously
  Occupancy room;
  auto worker = [&](int thread_id) {
    std::scoped_lock hold(sem);  // with sem:
    room.enter();
    L.print(fmt("Thread %d entering (acquired semaphore)", thread_id));
    L.sleep(2);
    L.print(fmt("Thread %d leaving (releasing semaphore)", thread_id));
    room.leave();
  };
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 5; ++i) {
    auto& t = threads.emplace_back(worker, i);
    t.start();
  }
  for (auto& t : threads) t.join();
  L.print("All threads complete!");
  L.python({"Thread 0 entering", "Thread 1 entering", "(2 second delay)", "Thread 0 leaving",
            "Thread 1 leaving", "Thread 2 entering", "Thread 3 entering", "..."});
  L.explain("Which two threads enter first is up to the scheduler, in Python and in weft "
            "(Semaphore makes no FIFO promise). What the Semaphore does promise is counted: "
            "the number of threads inside never went above 2.");
  L.check("never more than 2 threads inside Semaphore(2)", room.most.load() <= 2,
          fmt("most inside at once: %d", room.most.load()));
  L.check("2 threads did work at the same time", room.most.load() == 2);
  L.check("All threads complete! comes last", L.lines().back() == "All threads complete!");
}

// Communication 5.
void semaphore_resource(Lesson& L) {
  L.expect_seconds(6);
  weft::Semaphore sem(2);
  Occupancy room;
  auto worker = [&](const std::string& name) {
    std::scoped_lock hold(sem);
    room.enter();
    L.print(name + " accessing resource");
    L.sleep(2);
    room.leave();
  };
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 5; ++i) {
    auto& t = threads.emplace_back(worker, fmt("Thread-%d", i));
    t.start();
  }
  for (auto& t : threads) t.join();
  L.python({"Thread-0 accessing resource", "Thread-1 accessing resource", "(2 s)",
            "Thread-2 accessing resource", "Thread-3 accessing resource", "(2 s)",
            "Thread-4 accessing resource"});
  L.check("never more than 2 threads inside Semaphore(2)", room.most.load() <= 2,
          fmt("most inside at once: %d", room.most.load()));
  L.check("all 5 threads got in", L.lines().size() == 5);
}

// RLock: named by the guide, not shown.
void rlock(Lesson& L) {
  weft::RLock lock;
  long balance = 0;
  auto deposit = [&](long amount) {
    std::scoped_lock hold(lock);
    balance += amount;
  };
  auto deposit_twice = [&](long amount) {
    for (int i = 0; i < 1000; ++i) {
      std::scoped_lock hold(lock);  // held once...
      deposit(amount);              // ...and taken again by the same thread
      deposit(amount);
    }
  };
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(deposit_twice, 5).start();
  for (auto& t : threads) t.join();
  L.print(fmt("Balance: %ld", balance));
  L.python({"Balance: 40000"});
  weft::Lock plain;
  plain.acquire();
  const bool plain_again = plain.acquire(std::chrono::milliseconds(20));
  plain.release();
  bool non_owner_threw = false;
  lock.acquire();
  weft::Thread other([&] {
    try {
      lock.release();
    } catch (const weft::RuntimeError&) {
      non_owner_threw = true;
    }
  });
  other.start();
  other.join();
  lock.release();
  L.explain("An RLock counts how often its owner took it; the owner may take it again "
            "without blocking, and must release it as often. A plain Lock taken twice by the "
            "same thread blocks forever (here a timed acquire gives up after 20 ms).");
  L.check("an RLock can be taken again by its owner", balance == 40000,
          fmt("Balance: %ld", balance));
  L.check("a Lock cannot (a second acquire by its holder does not succeed)", !plain_again);
  L.check("release() by a thread that does not own the RLock raises RuntimeError",
          non_owner_threw);
}

// Barrier: named by the guide, not shown.
void barrier(Lesson& L) {
  constexpr int kWorkers = 3, kPhases = 3;
  std::atomic<int> phase_done{0};
  int phases_completed = 0;
  std::atomic<bool> early{false};  // a thread started phase p+1 before all finished phase p
  weft::Barrier barrier(kWorkers, [&] {
    // The action runs once per phase, in one thread, before any thread is released.
    L.print(fmt("--- phase %d: all %d arrived", phases_completed, kWorkers));
    ++phases_completed;
  });
  std::mutex index_mu;
  std::vector<std::vector<std::size_t>> indexes(kPhases);
  auto worker = [&](int id) {
    for (int phase = 0; phase < kPhases; ++phase) {
      if (phase_done.load() < phase * kWorkers) early = true;
      L.print(fmt("worker %d: phase %d", id, phase));
      phase_done.fetch_add(1);
      const std::size_t index = barrier.wait();
      std::scoped_lock hold(index_mu);
      indexes[static_cast<std::size_t>(phase)].push_back(index);
    }
  };
  std::deque<weft::Thread> threads;
  for (int i = 0; i < kWorkers; ++i) threads.emplace_back(worker, i).start();
  for (auto& t : threads) t.join();
  L.python({"worker 0: phase 0", "worker 1: phase 0", "worker 2: phase 0",
            "--- phase 0: all 3 arrived", "worker 1: phase 1", "..."});
  bool indexes_ok = true;
  for (auto& v : indexes) {
    std::sort(v.begin(), v.end());
    indexes_ok = indexes_ok && v == std::vector<std::size_t>{0, 1, 2};
  }
  L.explain("Barrier(3, action) releases the three threads together once all three have "
            "called wait(); the action runs once per phase first. wait() returns each index "
            "0..parties-1 once per phase. The barrier is cyclic: the same object serves every "
            "phase.");
  L.check("no thread starts a phase before all finished the one before", !early.load());
  L.check("the action ran once per phase", phases_completed == kPhases);
  L.check("wait() returned the indices 0, 1, 2 once per phase", indexes_ok);
}

// Timer: named by the guide, not shown.
void timer(Lesson& L) {
  const auto interval = L.guide_time(0.5);
  const auto start = Clock::now();
  std::atomic<bool> cancelled_ran{false};
  Clock::time_point fired_at{};
  weft::Timer hello(interval, [&] {
    fired_at = Clock::now();
    L.print("hello, world");
  });
  weft::Timer never(interval, [&] { cancelled_ran = true; });
  hello.start();
  never.start();
  never.cancel();
  hello.join();
  never.join();
  const double waited = std::chrono::duration<double>(fired_at - start).count();
  L.python({"hello, world"});
  L.explain("Timer(interval, fn) is a Thread that runs fn after the interval unless cancel() "
            "came first. Both timers here are started; the second is cancelled at once.");
  L.check("the timer ran its function after the interval",
          fired_at - start >= interval,
          fmt("after %.3f s, interval %.3f s", waited,
              std::chrono::duration<double>(interval).count()));
  L.check("a cancelled timer never runs its function", !cancelled_ran.load());
}

// Real life: traffic signal = Event.
void traffic_signal(Lesson& L) {
  L.expect_seconds(1);
  weft::Event green;
  std::atomic<bool> light_is_green{false};
  std::atomic<int> crossed_on_red{0};
  auto car = [&](int id) {
    L.print(fmt("car %d waits at the red light", id));
    green.wait();
    if (!light_is_green.load()) crossed_on_red.fetch_add(1);
    L.print(fmt("car %d crosses", id));
  };
  std::deque<weft::Thread> cars;
  for (int i = 0; i < 4; ++i) cars.emplace_back(car, i).start();
  L.sleep(1);
  L.print("light turns green");
  light_is_green = true;
  green.set();
  for (auto& c : cars) c.join();
  const auto lines = L.lines();
  const std::size_t green_at = L.find("light turns green");
  bool after = true;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find("crosses") != std::string::npos && i < green_at) after = false;
  L.python({"car 0 waits at the red light", "...", "light turns green", "car 2 crosses", "..."});
  L.explain("One Event is the light: cars wait() on it; set() lets every waiting car go at "
            "once (and any car that arrives later passes straight through).");
  L.check("no car crossed before the light turned green", after && crossed_on_red.load() == 0);
  L.check("all 4 cars crossed", std::count_if(lines.begin(), lines.end(), [](auto& s) {
                                  return s.find("crosses") != std::string::npos;
                                }) == 4);
}

// Real life: bank transaction = Lock.
void bank_transfer(Lesson& L) {
  struct Account {
    long balance;
    weft::Lock lock;
    explicit Account(long b) : balance(b) {}
  };
  std::deque<Account> accounts;
  for (int i = 0; i < 4; ++i) accounts.emplace_back(1000);
  const int transfers = L.quick() ? 5000 : 50000;
  std::atomic<int> refused{0};
  auto clerk = [&](unsigned seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < transfers; ++i) {
      const auto a = rng() % 4, b = (a + 1 + rng() % 3) % 4;  // two different accounts
      Account& src = accounts[a];
      Account& dst = accounts[b];
      const long amount = static_cast<long>(rng() % 100);
      std::scoped_lock hold(src.lock, dst.lock);  // both, without deadlock
      if (src.balance >= amount) {
        src.balance -= amount;
        dst.balance += amount;
      } else {
        refused.fetch_add(1);
      }
    }
  };
  std::deque<weft::Thread> clerks;
  for (unsigned i = 0; i < 4; ++i) clerks.emplace_back(clerk, i + 1).start();
  for (auto& c : clerks) c.join();
  long total = 0;
  bool negative = false;
  for (auto& a : accounts) {
    total += a.balance;
    negative = negative || a.balance < 0;
    L.print(fmt("balance: %ld", a.balance));
  }
  L.print(fmt("total: %ld", total));
  L.python({"(balances vary)", "total: 4000"});
  L.explain(fmt("4 clerks made %d transfers each between 4 accounts, each under both "
                "accounts' locks. std::scoped_lock(src.lock, dst.lock) takes two weft::Locks "
                "without deadlock (std::lock's try-and-back-off); in Python the usual fix is "
                "to take the locks in one global order. %d transfers were refused for "
                "insufficient funds.",
                transfers, refused.load()));
  L.check("money is neither created nor lost: the total stays 4000", total == 4000,
          fmt("total: %ld", total));
  L.check("no balance went below zero", !negative);
}

// Real life: printer access = Semaphore.
void printer(Lesson& L) {
  L.expect_seconds(1.5);
  weft::BoundedSemaphore printers(2);
  Occupancy busy;
  auto job = [&](int id) {
    std::scoped_lock hold(printers);
    busy.enter();
    L.print(fmt("job %d printing", id));
    L.sleep(0.5);
    busy.leave();
  };
  std::deque<weft::Thread> jobs;
  for (int i = 0; i < 6; ++i) jobs.emplace_back(job, i).start();
  for (auto& j : jobs) j.join();
  bool over_release = false;
  try {
    printers.release();
  } catch (const weft::ValueError&) {
    over_release = true;
  }
  L.python({"job 0 printing", "job 1 printing", "(0.5 s)", "job 2 printing", "..."});
  L.explain("Two printers, six jobs: a BoundedSemaphore(2) lets two jobs print at once. "
            "Bounded, because a release() with no matching acquire() is a bug it reports.");
  L.check("never more than 2 jobs printing", busy.most.load() <= 2,
          fmt("most at once: %d", busy.most.load()));
  L.check("all 6 jobs printed", L.lines().size() == 6);
  L.check("BoundedSemaphore released above its initial value raises ValueError", over_release);
}

}  // namespace

TOUR_LESSON("event", event);
TOUR_LESSON("event-signal", event_signal);
TOUR_LESSON("condition", condition);
TOUR_LESSON("condition-notify", condition_notify);
TOUR_LESSON("semaphore", semaphore);
TOUR_LESSON("semaphore-resource", semaphore_resource);
TOUR_LESSON("rlock", rlock);
TOUR_LESSON("barrier", barrier);
TOUR_LESSON("timer", timer);
TOUR_LESSON("traffic-signal", traffic_signal);
TOUR_LESSON("bank-transfer", bank_transfer);
TOUR_LESSON("printer", printer);

}  // namespace tour
