// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <thread>

#include "support/blocking.hpp"
#include "weft/errors.hpp"
#include "weft/lock.hpp"

TEST(LockSmoke, CountsUnderContention) {
  weft::Lock lock;
  long counter = 0;
  auto work = [&] {
    for (int i = 0; i < 100000; ++i) {
      lock.acquire();
      ++counter;
      lock.release();
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_EQ(counter, 200000);
}

TEST(LockSmoke, AcquireBlocksUntilRelease) {
  weft::Lock lock;
  lock.acquire();
  weft::testing::expect_blocks_until([&] { return lock.acquire(); }, [&] { lock.release(); });
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_THROW(lock.release(), weft::RuntimeError);
}
