// Recycling of future states (src/futures/state_alloc.cpp): a freed state's block is
// reused by the next state of its size class, blocks freed by one thread serve another,
// a thread's blocks outlive it through the shared depot, and recycled states work.
// Under AddressSanitizer states are not recycled (so that use after free is reported):
// the tests that check reuse skip there.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "weft/futures.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_TEST_ASAN 1
#endif
#endif

namespace {

using weft::detail::FutureState;

// A state of R's size class, released at once; returns where it lived.
template <class R>
const void* make_and_drop() {
  auto* s = new FutureState<R>();
  const void* where = s;
  s->release();
  return where;
}

bool recycling() {
#if defined(WEFT_TEST_ASAN)
  return false;
#else
  return true;
#endif
}

TEST(StateAlloc, FreedBlockIsReusedBySameSizeClass) {
  if (!recycling()) GTEST_SKIP() << "states are not recycled under AddressSanitizer";
  const void* first = make_and_drop<int>();
  EXPECT_EQ(make_and_drop<int>(), first);
  // A different size class does not take it, and leaves it for the next int state.
  struct Big {
    char bytes[160];
  };
  EXPECT_NE(make_and_drop<Big>(), first);
  EXPECT_EQ(make_and_drop<int>(), first);
}

TEST(StateAlloc, BlocksFreedByAnExitedThreadServeOthers) {
  if (!recycling()) GTEST_SKIP() << "states are not recycled under AddressSanitizer";
  // A size class no other test uses, so the depot holds only this thread's batches.
  struct Payload {
    char bytes[150];
  };
  constexpr int kStates = 1000;
  std::set<const void*> freed_there;
  std::thread([&] {
    std::vector<FutureState<Payload>*> states;
    for (int i = 0; i < kStates; ++i) states.push_back(new FutureState<Payload>());
    for (auto* s : states) {
      freed_there.insert(s);
      s->release();
    }
  }).join();
  // The exited thread's blocks went to the depot: this thread gets them back.
  std::vector<FutureState<Payload>*> mine;
  int reused = 0;
  for (int i = 0; i < kStates; ++i) {
    mine.push_back(new FutureState<Payload>());
    reused += freed_there.count(mine.back()) != 0 ? 1 : 0;
  }
  for (auto* s : mine) s->release();
  EXPECT_GE(reused, kStates / 2) << "blocks freed by the exited thread were not recycled";
}

TEST(StateAlloc, RecycledStatesCarryFreshResults) {
  // Tasks submitted and awaited in rounds: every round reuses the previous round's
  // blocks; each result must be its own task's, and no state may keep an old value.
  weft::ThreadPoolExecutor pool(2);
  for (int round = 0; round < 20; ++round) {
    std::vector<weft::Future<std::string>> fs;
    for (int i = 0; i < 500; ++i)
      fs.push_back(pool.submit([round, i] { return std::to_string(round * 1000 + i); }));
    for (int i = 0; i < 500; ++i) {
      ASSERT_EQ(fs[static_cast<std::size_t>(i)].result(), std::to_string(round * 1000 + i));
    }
  }
}

TEST(StateAlloc, StatesFreedOnWorkersAndAllocatedOnTheCaller) {
  // Fire-and-forget: the Future is dropped at once, so the worker frees the state; the
  // submitting thread keeps allocating. Every task must still run exactly once.
  std::atomic<std::uint64_t> sum{0};
  constexpr std::uint64_t kTasks = 20000;
  {
    weft::ThreadPoolExecutor pool(2);
    for (std::uint64_t i = 1; i <= kTasks; ++i) {
      (void)pool.submit([&sum, i] { sum.fetch_add(i, std::memory_order_relaxed); });
    }
  }  // shutdown(wait=true)
  EXPECT_EQ(sum.load(), kTasks * (kTasks + 1) / 2);
}

}  // namespace
