// SPDX-License-Identifier: Apache-2.0
// Concurrent use of the registry: threads started and joined from several threads
// while others read enumerate(), active_count() and for_each_thread(). Exact counts;
// sized to stay well under a second on 2 cores (also under TSan).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "weft/detail/thread_registry.hpp"
#include "weft/local.hpp"
#include "weft/thread.hpp"

namespace {

TEST(Churn, StartJoinWhileOthersReadTheRegistry) {
  constexpr int kCreators = 3, kPerCreator = 20;
  std::atomic<int> ran{0};
  std::atomic<bool> stop{false};
  weft::local<int> per_thread;
  const std::size_t base = weft::active_count();
  weft::Thread reader([&] {
    std::size_t reads = 0;
    while (!stop.load(std::memory_order_relaxed) || reads == 0) {
      const auto all = weft::enumerate();
      EXPECT_GE(all.size(), base);
      std::size_t listed = 0;
      weft::detail::for_each_thread([&](const weft::detail::ThreadInfo&) { ++listed; });
      EXPECT_GE(listed, base);
      (void)weft::active_count();
      ++reads;
    }
  });
  reader.start();
  std::vector<std::unique_ptr<weft::Thread>> creators;
  for (int c = 0; c < kCreators; ++c) {
    creators.push_back(std::make_unique<weft::Thread>([&] {
      for (int i = 0; i < kPerCreator; ++i) {
        weft::Thread t([&] {
          per_thread.get() += 1;
          ++ran;
        });
        t.start();
        t.join();
      }
    }));
  }
  for (auto& c : creators) c->start();
  for (auto& c : creators) c->join();
  stop = true;
  reader.join();
  EXPECT_EQ(ran.load(), kCreators * kPerCreator);
  EXPECT_EQ(weft::active_count(), base);
}

}  // namespace
