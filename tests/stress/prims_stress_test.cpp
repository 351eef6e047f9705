// SPDX-License-Identifier: Apache-2.0
// Stress tests with exact counts for Lock, RLock, Semaphore, Condition, Barrier and Event.
// Many threads (more than cores) hammer one object through every call form; the final
// counts must be exact and the object must be back in its initial state. Sized to run
// in a few seconds on 2 cores (a tenth of the work under TSan); WEFT_STRESS_SCALE=k
// multiplies the work.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "weft/barrier.hpp"
#include "weft/condition.hpp"
#include "weft/detail/tsan.hpp"
#include "weft/errors.hpp"
#include "weft/event.hpp"
#include "weft/lock.hpp"
#include "weft/rlock.hpp"
#include "weft/semaphore.hpp"

using namespace std::chrono_literals;

namespace {

int scale() {
  const char* s = std::getenv("WEFT_STRESS_SCALE");
  const int k = s != nullptr ? std::atoi(s) : 1;
  return k > 0 ? k : 1;
}

// A test's amount of work: `full` in an optimised build, a tenth under ThreadSanitizer
// (which makes every hand-off 10-20x slower: with two CPU hogs beside it, full-size runs
// of the bounded buffer, the barrier rounds and the event ping-pong came within a few
// seconds of the 120 s test limit, or passed it), times WEFT_STRESS_SCALE.
int work(int full) {
#if defined(WEFT_TSAN)
  return full / 10 * scale();
#else
  return full * scale();
#endif
}

// Runs fn(thread_index) in n threads and joins them.
template <class F>
void run_threads(std::size_t n, F fn) {
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (std::size_t i = 0; i < n; ++i) threads.emplace_back([&fn, i] { fn(i); });
  for (auto& t : threads) t.join();
}

// Acquires `l` in one of its forms (blocking, timed, try, try_lock_until), retrying the
// forms that may fail until one succeeds.
template <class L>
void acquire_somehow(L& l, unsigned choice) {
  switch (choice % 5) {
    case 0: l.acquire(); return;
    case 1: l.lock(); return;
    case 2: while (!l.acquire(std::chrono::microseconds(50))) {} return;
    case 3: while (!l.try_lock()) std::this_thread::yield(); return;
    default:
      while (!l.try_lock_until(std::chrono::steady_clock::now() + 100us)) {}
      return;
  }
}

}  // namespace

TEST(LockStress, ExactCountUnderContention) {
  const int per_thread = work(40000);
  constexpr std::size_t kThreads = 8;
  weft::Lock lock;
  long counter = 0;  // protected by lock; TSan checks that
  run_threads(kThreads, [&](std::size_t t) {
    for (int i = 0; i < per_thread; ++i) {
      acquire_somehow(lock, static_cast<unsigned>(i + static_cast<int>(t)));
      ++counter;
      lock.release();
    }
  });
  EXPECT_EQ(counter, static_cast<long>(kThreads) * per_thread);
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(LockStress, ReleasedByAnotherThreadAsAHandOff) {
  // A Lock used as a binary signal: the producer acquires, the consumer releases.
  // Every round is two blocking hand-offs.
  const int rounds = work(20000);
  weft::Lock full, empty;
  full.acquire();  // nothing produced yet
  long produced = 0, consumed = 0, value = 0;
  std::thread producer([&] {
    for (int i = 1; i <= rounds; ++i) {
      empty.acquire();  // released by the consumer
      value = i;
      ++produced;
      full.release();  // acquired by the consumer
    }
  });
  std::thread consumer([&] {
    for (int i = 1; i <= rounds; ++i) {
      full.acquire();
      EXPECT_EQ(value, i);
      ++consumed;
      empty.release();
    }
  });
  producer.join();
  consumer.join();
  EXPECT_EQ(produced, rounds);
  EXPECT_EQ(consumed, rounds);
  EXPECT_FALSE(empty.locked());
  EXPECT_TRUE(full.locked());
  full.release();
}

TEST(RLockStress, ExactCountWithNestedLevels) {
  const int per_thread = work(30000);
  constexpr std::size_t kThreads = 8;
  weft::RLock lock;
  long counter = 0;
  run_threads(kThreads, [&](std::size_t t) {
    for (int i = 0; i < per_thread; ++i) {
      const unsigned choice = static_cast<unsigned>(i) * 7u + static_cast<unsigned>(t);
      const int depth = 1 + static_cast<int>(choice % 3);
      for (int d = 0; d < depth; ++d) acquire_somehow(lock, choice + static_cast<unsigned>(d));
      ++counter;
      for (int d = 0; d < depth; ++d) lock.release();
      if (i % 512 == 0) {
        EXPECT_THROW(lock.release(), weft::RuntimeError);
      }
    }
  });
  EXPECT_EQ(counter, static_cast<long>(kThreads) * per_thread);
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(SemaphoreStress, NeverMorePermitsThanItHas) {
  const int per_thread = work(30000);
  constexpr std::size_t kThreads = 8;
  constexpr int kPermits = 3;
  weft::BoundedSemaphore sem(kPermits);
  std::atomic<int> inside{0}, max_inside{0};
  std::atomic<long> passes{0};
  run_threads(kThreads, [&](std::size_t t) {
    for (int i = 0; i < per_thread; ++i) {
      acquire_somehow(sem, static_cast<unsigned>(i) + static_cast<unsigned>(t));
      const int now = inside.fetch_add(1) + 1;
      int seen = max_inside.load();
      while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
      }
      passes.fetch_add(1);
      inside.fetch_sub(1);
      sem.release();
    }
  });
  EXPECT_EQ(passes.load(), static_cast<long>(kThreads) * per_thread);
  EXPECT_LE(max_inside.load(), kPermits);
  int left = 0;
  while (sem.acquire(false)) ++left;
  EXPECT_EQ(left, kPermits);
}

TEST(SemaphoreStress, ProducersAndConsumersBalanceExactly) {
  // Producers release permits in batches (release(n)); consumers take them one at a
  // time with timed acquires. Every permit is taken exactly once.
  const int total = work(200000);
  constexpr int kProducers = 3, kConsumers = 5;
  weft::Semaphore sem(0);
  std::atomic<long> taken{0};
  std::atomic<long> released{0};
  std::vector<std::thread> threads;
  const int per_producer = total / kProducers;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      int left = per_producer + (p == 0 ? total % kProducers : 0);
      std::size_t batch = 1;
      while (left > 0) {
        const std::size_t n = std::min<std::size_t>(batch, static_cast<std::size_t>(left));
        sem.release(n);
        released.fetch_add(static_cast<long>(n));
        left -= static_cast<int>(n);
        batch = batch % 7 + 1;
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      for (;;) {
        if (taken.load() >= total) return;
        if (sem.acquire(200us)) {
          if (taken.fetch_add(1) + 1 >= total) return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(released.load(), total);
  EXPECT_EQ(taken.load(), total);
  EXPECT_FALSE(sem.acquire(false));
}

namespace {
// A bounded buffer on one Condition (CPython's queue design in miniature): producers
// and consumers mix wait, wait(timeout), wait_for, notify, notify(n) and notify_all.
// Holds the condition's lock, with a second level when `extra` (RLock only).
struct Hold {
  Hold(weft::Condition& c, bool extra_level) : cond(c), extra(extra_level) {
    cond.acquire();
    if (extra) cond.acquire();
  }
  ~Hold() {
    if (extra) cond.release();
    cond.release();
  }
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;
  weft::Condition& cond;
  bool extra;
};

void bounded_buffer(weft::Condition& cond, bool extra_level = false) {
  const int per_producer = work(10000);
  constexpr int kProducers = 4, kConsumers = 4;
  constexpr std::size_t kCapacity = 4;
  std::deque<long> buffer;  // protected by cond's lock
  long sum_in = 0, sum_out = 0, count_out = 0;
  int producers_left = kProducers;
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 1; i <= per_producer; ++i) {
        const long item = static_cast<long>(p) * 1'000'000 + i;
        Hold hold(cond, extra_level);
        if (i % 3 == 0) {
          cond.wait_for([&] { return buffer.size() < kCapacity; });
        } else {
          while (buffer.size() >= kCapacity) {
            if (i % 3 == 1) {
              cond.wait();
            } else {
              cond.wait(1ms);
            }
          }
        }
        buffer.push_back(item);
        sum_in += item;
        if (i % 5 == 0) {
          cond.notify_all();
        } else {
          cond.notify(2);
        }
      }
      Hold hold(cond, extra_level);
      --producers_left;
      cond.notify_all();
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      for (int n = 0;; ++n) {
        Hold hold(cond, extra_level);
        const auto ready = [&] { return !buffer.empty() || producers_left == 0; };
        if ((n + c) % 2 == 0) {
          cond.wait_for(ready);
        } else {
          while (!cond.wait_for(ready, 1ms)) {
          }
        }
        if (buffer.empty()) return;  // producers done and nothing left
        sum_out += buffer.front();
        ++count_out;
        buffer.pop_front();
        cond.notify_all();  // wake producers waiting for room (and other consumers)
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(count_out, static_cast<long>(kProducers) * per_producer);
  EXPECT_EQ(sum_out, sum_in);
  EXPECT_TRUE(buffer.empty());
}
}  // namespace

TEST(ConditionStress, BoundedBufferWithItsOwnRLock) {
  weft::Condition cond;
  bounded_buffer(cond);
  EXPECT_TRUE(cond.acquire(false));
  cond.release();
}

TEST(ConditionStress, BoundedBufferWithALock) {
  weft::Lock lock;
  weft::Condition cond(lock);
  bounded_buffer(cond);
  EXPECT_FALSE(lock.locked());
}

TEST(ConditionStress, BoundedBufferWithARecursivelyHeldRLock) {
  // Every thread holds two levels of the RLock: each wait() must release both and
  // restore both.
  weft::RLock lock;
  weft::Condition cond(lock);
  bounded_buffer(cond, true);
  EXPECT_FALSE(lock.locked());
}

TEST(BarrierStress, EveryRoundHandsOutEachIndexOnce) {
  const int rounds = work(3000);
  constexpr std::size_t kParties = 6;
  std::atomic<int> actions{0};
  std::vector<std::atomic<unsigned>> seen(static_cast<std::size_t>(rounds));
  weft::Barrier barrier(kParties, [&] { actions.fetch_add(1); });
  run_threads(kParties, [&](std::size_t) {
    for (int r = 0; r < rounds; ++r) {
      const std::size_t index =
          r % 2 == 0 ? barrier.wait() : barrier.wait(std::chrono::hours(1));
      seen[static_cast<std::size_t>(r)].fetch_or(1u << index);
    }
  });
  EXPECT_EQ(actions.load(), rounds);
  for (int r = 0; r < rounds; ++r)
    EXPECT_EQ(seen[static_cast<std::size_t>(r)].load(), (1u << kParties) - 1) << "round " << r;
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

TEST(BarrierStress, AbortAndResetRepeatedly) {
  // Rounds that pass, and rounds broken by abort(); after each broken round the
  // threads regroup on a second barrier and one of them resets the first.
  const int rounds = work(1000);
  constexpr std::size_t kParties = 4;
  weft::Barrier barrier(kParties);
  weft::Barrier regroup(kParties);
  std::atomic<long> passed{0}, broken{0};
  run_threads(kParties, [&](std::size_t t) {
    for (int r = 0; r < rounds; ++r) {
      const bool abort_round = r % 4 == 3;
      try {
        if (abort_round && t == 0) {
          barrier.abort();
          throw weft::BrokenBarrierError("aborted by this thread");
        }
        barrier.wait();
        passed.fetch_add(1);
      } catch (const weft::BrokenBarrierError&) {
        broken.fetch_add(1);
      }
      if (regroup.wait() == 0 && barrier.broken()) barrier.reset();
      regroup.wait();
    }
  });
  const long aborted_rounds = rounds / 4;
  EXPECT_EQ(broken.load(), aborted_rounds * static_cast<long>(kParties));
  EXPECT_EQ(passed.load(), (rounds - aborted_rounds) * static_cast<long>(kParties));
  EXPECT_FALSE(barrier.broken());
}

TEST(EventStress, PingPongExactRounds) {
  const int rounds = work(20000);
  weft::Event ping, pong;
  long hits = 0;
  std::thread other([&] {
    for (int i = 0; i < rounds; ++i) {
      ping.wait();
      ping.clear();
      ++hits;
      pong.set();
    }
  });
  for (int i = 0; i < rounds; ++i) {
    ping.set();
    if (i % 2 == 0) {
      pong.wait();
    } else {
      while (!pong.wait(1ms)) {
      }
    }
    pong.clear();
  }
  other.join();
  EXPECT_EQ(hits, rounds);
  EXPECT_FALSE(ping.is_set());
  EXPECT_FALSE(pong.is_set());
}
