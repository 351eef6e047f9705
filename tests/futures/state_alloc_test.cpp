// SPDX-License-Identifier: Apache-2.0
// Reuse of future state blocks (src/futures/state_alloc.cpp): a thread reuses the blocks
// it frees, never caches more blocks than it allocated (so a thread that only frees
// caches nothing) nor more than 16 MiB, and reused states carry their own results.
// Out of memory, freeing a state never aborts and allocating one throws std::bad_alloc.
// Under AddressSanitizer states are never cached (so that use after free is reported):
// the tests that check caching skip there.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "weft/futures.hpp"

namespace {

using weft::detail::cached_state_bytes;
using weft::detail::FutureState;

bool caching() {
  // A state freed by the thread that allocated it is cached, unless caching is off.
  auto* s = new FutureState<int>();
  const std::size_t before = cached_state_bytes();
  s->release();
  return cached_state_bytes() > before;
}

TEST(StateAlloc, AFreedBlockIsReusedByTheNextStateOfItsSize) {
  if (!caching()) GTEST_SKIP() << "states are not cached under AddressSanitizer";
  auto* a = new FutureState<int>();
  const void* where = a;
  a->release();
  auto* b = new FutureState<int>();
  EXPECT_EQ(static_cast<const void*>(b), where);
  // A larger size class does not take it.
  struct Big {
    char bytes[160];
  };
  auto* big = new FutureState<Big>();
  EXPECT_NE(static_cast<const void*>(big), static_cast<const void*>(b));
  big->release();
  b->release();
}

TEST(StateAlloc, AThreadThatOnlyFreesKeepsNothing) {
  if (!caching()) GTEST_SKIP() << "states are not cached under AddressSanitizer";
  std::vector<FutureState<int>*> states;
  for (int i = 0; i < 1000; ++i) states.push_back(new FutureState<int>());
  std::size_t kept_there = 1;
  std::thread([&] {
    for (auto* s : states) s->release();
    kept_there = cached_state_bytes();
  }).join();
  EXPECT_EQ(kept_there, 0u) << "a thread that allocated no state cached freed ones";
}

TEST(StateAlloc, AThreadKeepsNoMoreBlocksThanItAllocated) {
  if (!caching()) GTEST_SKIP() << "states are not cached under AddressSanitizer";
  std::size_t kept = 0;
  std::size_t one = 0;
  std::thread([&] {
    // Its own 10, then 1000 allocated elsewhere: only 10 can be kept.
    std::vector<FutureState<int>*> mine;
    for (int i = 0; i < 10; ++i) mine.push_back(new FutureState<int>());
    const std::size_t before = cached_state_bytes();
    mine.back()->release();
    mine.pop_back();
    one = cached_state_bytes() - before;
    for (auto* s : mine) s->release();
    std::vector<FutureState<int>*> theirs;
    std::thread([&] {
      for (int i = 0; i < 1000; ++i) theirs.push_back(new FutureState<int>());
    }).join();
    for (auto* s : theirs) s->release();
    kept = cached_state_bytes();
  }).join();
  ASSERT_GT(one, 0u);
  EXPECT_EQ(kept, 10 * one);
}

TEST(StateAlloc, AThreadKeepsAtMost16MiB) {
  if (!caching()) GTEST_SKIP() << "states are not cached under AddressSanitizer";
  struct Payload {
    char bytes[150];
  };
  std::size_t kept = 0;
  std::thread([&] {
    std::vector<FutureState<Payload>*> states;
    for (int i = 0; i < 100000; ++i) states.push_back(new FutureState<Payload>());  // ~22 MB
    for (auto* s : states) s->release();
    kept = cached_state_bytes();
  }).join();
  EXPECT_GT(kept, std::size_t{15} << 20);
  EXPECT_LE(kept, std::size_t{16} << 20);
}

TEST(StateAlloc, ReusedStatesCarryTheirOwnResults) {
  // Rounds of tasks: every round reuses the previous round's blocks; each result must be
  // its own task's.
  weft::ThreadPoolExecutor pool(2);
  for (int round = 0; round < 20; ++round) {
    std::vector<weft::Future<std::string>> fs;
    for (int i = 0; i < 500; ++i)
      fs.push_back(pool.submit([round, i] { return std::to_string(round * 1000 + i); }));
    for (int i = 0; i < 500; ++i)
      ASSERT_EQ(fs[static_cast<std::size_t>(i)].result(), std::to_string(round * 1000 + i));
  }
}

TEST(StateAlloc, StatesFreedByWorkersWhileTheCallerAllocates) {
  // Fire and forget: each Future is dropped at once, so a worker frees its state while
  // the submitting thread keeps allocating. Every task still runs exactly once.
  std::atomic<std::uint64_t> sum{0};
  constexpr std::uint64_t kTasks = 20000;
  {
    weft::ThreadPoolExecutor pool(2);
    for (std::uint64_t i = 1; i <= kTasks; ++i)
      (void)pool.submit([&sum, i] { sum.fetch_add(i, std::memory_order_relaxed); });
  }
  EXPECT_EQ(sum.load(), kTasks * (kTasks + 1) / 2);
}

// Exhaustion (issue 11, #8): a thread whose first touch of the state cache is freeing a
// state, while memory is exhausted. The cache used to be a thread_local with a
// destructor, whose registration glibc allocates on first touch and aborts ("failed to
// register TLS destructor") when that fails. In a forked child: RLIMIT_AS at the current
// size, the heap filled, then a fresh thread frees a state and allocates another.
// Child exit codes: 0 ok, 2 allocation did not fail as set up, 3 no bad_alloc.
int exhausted_child() {
  auto* state = new FutureState<int>();
  std::atomic<int> go{0};
  std::atomic<int> result{-1};
  std::thread freer([&] {
    while (go.load(std::memory_order_acquire) == 0) std::this_thread::yield();
    state->release();  // the thread's first touch of the cache
    try {
      auto* again = new FutureState<int>();
      again->release();
      result.store(0);  // possible if a block was left; nothing aborted
    } catch (const std::bad_alloc&) {
      result.store(0);
    }
  });
  // Every way out releases and joins the thread first.
  auto finish = [&](int code) {
    go.store(1, std::memory_order_release);
    freer.join();
    return code;
  };
  rlimit lim{};
  getrlimit(RLIMIT_AS, &lim);
  long pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
    std::fclose(f);
  }
  if (pages == 0) return finish(2);
  lim.rlim_cur = static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE));
  if (setrlimit(RLIMIT_AS, &lim) != 0) return finish(2);
  // Fill what is left of the heap, large blocks first (leaked: the child exits).
  for (std::size_t size = std::size_t{1} << 20; size >= 1; size /= 2)
    while (std::malloc(size) != nullptr) {
    }
  // A failed call can release memory (glibc trims or consolidates on failure), so the next
  // small request may succeed: keep taking until a request fails, within a bound.
  for (int taken = 0; std::malloc(1) != nullptr;)
    if (++taken > (1 << 26)) return finish(2);
  finish(0);
  return result.load() == 0 ? 0 : 3;
}

TEST(StateAlloc, FreeingNeverAbortsWhenMemoryIsExhausted) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the sanitizers' allocators die on exhaustion by design";
#endif
  for (int attempt = 0; attempt < 3; ++attempt) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(exhausted_child());
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal "
                                   << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (WEXITSTATUS(status) == 2) GTEST_SKIP() << "the child could not exhaust its memory";
    ASSERT_EQ(WEXITSTATUS(status), 0);
  }
}

}  // namespace
