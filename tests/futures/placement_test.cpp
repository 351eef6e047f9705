// SPDX-License-Identifier: Apache-2.0
// Where a pool's workers run: weft pins nothing, and a program that wants one worker per
// CPU asks for it in the initializer (the recipe in docs/python-mapping.md, "Where the
// workers run").
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "weft/barrier.hpp"
#include "weft/futures.hpp"

namespace {

// Whether this process may run on CPUs 0 .. n-1 (a restricted cpuset or taskset may not).
bool may_run_on_first_cpus(unsigned n) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return false;
  for (unsigned c = 0; c < n; ++c)
    if (!CPU_ISSET(c, &allowed)) return false;
  return true;
}

// The CPU this thread may run on if it may run on exactly one, else -1.
int only_cpu_of_this_thread() {
  cpu_set_t mine;
  CPU_ZERO(&mine);
  if (pthread_getaffinity_np(pthread_self(), sizeof mine, &mine) != 0 || CPU_COUNT(&mine) != 1)
    return -1;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &mine)) return c == sched_getcpu() ? c : -1;
  return -1;
}

}  // namespace

TEST(PoolPlacement, AnInitializerCanRunOneWorkerPerCpu) {
  if (std::thread::hardware_concurrency() < 2 || !may_run_on_first_cpus(2))
    GTEST_SKIP() << "needs CPUs 0 and 1";
  std::atomic<unsigned> next_cpu{0};  // declared before the pool: workers start lazily
  weft::ThreadPoolExecutor pool(2, "", [&next_cpu] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(next_cpu++ % std::thread::hardware_concurrency(), &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
  });
  // Both tasks wait for each other, so each holds one of the two workers while it reads
  // the one CPU its worker may run on (and runs on).
  weft::Barrier both(2);
  auto on_a_worker = [&both] {
    both.wait(std::chrono::seconds(60));  // BrokenBarrierError, not a hang, if alone
    return only_cpu_of_this_thread();
  };
  auto first = pool.submit(on_a_worker);
  auto second = pool.submit(on_a_worker);
  const std::set<int> cpus{first.result(), second.result()};
  EXPECT_EQ(cpus, (std::set<int>{0, 1}));
}
