// SPDX-License-Identifier: Apache-2.0
// Future: states, result/exception with and without timeout, cancel, done callbacks.
// Ports, in our own words, the FutureTests of CPython's test_concurrent_futures.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/blocking.hpp"
#include "weft/futures.hpp"

namespace {

using namespace std::chrono_literals;
using weft::Future;

struct MyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST(Future, StartsPendingThenRunningThenFinished) {
  Future<int> f;
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(f.running());
  EXPECT_FALSE(f.cancelled());
  EXPECT_TRUE(f.set_running_or_notify_cancel());
  EXPECT_TRUE(f.running());
  EXPECT_FALSE(f.done());
  f.set_result(42);
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.running());
  EXPECT_EQ(f.result(), 42);
  EXPECT_EQ(f.result(), 42) << "result() can be read again";
  EXPECT_EQ(f.exception(), nullptr);
}

TEST(Future, CancelOnlyWhilePending) {
  Future<int> pending;
  EXPECT_TRUE(pending.cancel());
  EXPECT_TRUE(pending.cancel()) << "cancelling twice still reports cancelled";
  EXPECT_TRUE(pending.cancelled());
  EXPECT_TRUE(pending.done());
  EXPECT_FALSE(pending.set_running_or_notify_cancel());

  Future<int> running;
  running.set_running_or_notify_cancel();
  EXPECT_FALSE(running.cancel());
  EXPECT_FALSE(running.cancelled());

  Future<int> finished;
  finished.set_result(1);
  EXPECT_FALSE(finished.cancel());
  EXPECT_EQ(finished.result(), 1);
}

TEST(Future, CancelledResultAndExceptionThrowCancelledError) {
  Future<int> f;
  f.cancel();
  EXPECT_THROW(f.result(), weft::CancelledError);
  EXPECT_THROW(f.result(0s), weft::CancelledError);
  EXPECT_THROW(f.exception(), weft::CancelledError);
  EXPECT_THROW(f.exception(1s), weft::CancelledError);
}

TEST(Future, ExceptionIsRethrownWithItsOwnType) {
  Future<std::string> f;
  f.set_exception(std::make_exception_ptr(MyError("boom")));
  EXPECT_TRUE(f.done());
  try {
    f.result();
    FAIL() << "result() did not throw";
  } catch (const MyError& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
  std::exception_ptr e = f.exception();
  ASSERT_NE(e, nullptr);
  EXPECT_THROW(std::rethrow_exception(e), MyError);
}

TEST(Future, TimedResultThrowsTimeoutErrorAfterWaitingAtLeastTheTimeout) {
  Future<int> f;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(f.result(30ms), weft::TimeoutError);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_THROW(f.exception(10ms), weft::TimeoutError);
  EXPECT_THROW(f.result(0s), weft::TimeoutError);
  EXPECT_THROW(f.result(-5s), weft::TimeoutError);
  EXPECT_FALSE(f.done());
}

TEST(Future, ResultBlocksUntilSetFromAnotherThread) {
  Future<int> f;
  const int v = weft::testing::expect_blocks_until([&] { return f.result(); },
                                                   [&] { f.set_result(7); });
  EXPECT_EQ(v, 7);
}

TEST(Future, TimedResultIsWokenByCompletion) {
  Future<int> f;
  const int v = weft::testing::expect_blocks_until([&] { return f.result(60s); },
                                                   [&] { f.set_result(8); });
  EXPECT_EQ(v, 8);
}

TEST(Future, ResultBlocksUntilCancelled) {
  Future<int> f;
  weft::testing::expect_blocks_until(
      [&] { EXPECT_THROW(f.result(), weft::CancelledError); }, [&] { f.cancel(); });
}

TEST(Future, ExceptionBlocksUntilSet) {
  Future<void> f;
  auto e = weft::testing::expect_blocks_until(
      [&] { return f.exception(); },
      [&] { f.set_exception(std::make_exception_ptr(MyError("late"))); });
  EXPECT_NE(e, nullptr);
}

TEST(Future, VoidFuture) {
  Future<void> f;
  f.set_result();
  f.result();
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.exception(), nullptr);
}

TEST(Future, SettingADoneFutureThrows) {
  Future<int> f;
  f.set_result(1);
  EXPECT_THROW(f.set_result(2), weft::RuntimeError);
  EXPECT_THROW(f.set_exception(std::make_exception_ptr(MyError("x"))), weft::RuntimeError);
  EXPECT_THROW(f.set_running_or_notify_cancel(), weft::RuntimeError);
  EXPECT_EQ(f.result(), 1);
}

TEST(Future, CopiesShareOneState) {
  Future<int> a;
  Future<int> b = a;
  EXPECT_TRUE(a == b);
  b.set_result(3);
  EXPECT_TRUE(a.done());
  EXPECT_EQ(a.result(), 3);
  Future<int> c;
  c = a;
  EXPECT_EQ(c.result(), 3);
}

TEST(Future, MoveOnlyResultIsMovedOut) {
  Future<std::unique_ptr<int>> f;
  f.set_result(std::make_unique<int>(5));
  auto p = f.result();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

TEST(FutureCallbacks, RunInRegistrationOrderOnceWhenDone) {
  Future<int> f;
  std::vector<int> order;
  f.add_done_callback([&](Future<int> g) { order.push_back(g.result()); });
  f.add_done_callback([&](Future<int>) { order.push_back(-1); });
  f.add_done_callback([&](Future<int>) { order.push_back(-2); });
  EXPECT_TRUE(order.empty());
  f.set_result(9);
  EXPECT_EQ(order, (std::vector<int>{9, -1, -2}));
  EXPECT_THROW(f.set_result(10), weft::RuntimeError);
  EXPECT_EQ(order.size(), 3u) << "callbacks run once";
}

TEST(FutureCallbacks, RunAtOnceInTheAddingThreadWhenAlreadyDone) {
  Future<int> f;
  f.set_result(1);
  std::thread::id ran_on;
  int calls = 0;
  f.add_done_callback([&](Future<int> g) {
    ran_on = std::this_thread::get_id();
    calls += g.result();
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(FutureCallbacks, RunOnCancel) {
  Future<int> f;
  bool saw_cancelled = false;
  f.add_done_callback([&](Future<int> g) { saw_cancelled = g.cancelled(); });
  f.cancel();
  EXPECT_TRUE(saw_cancelled);
}

TEST(FutureCallbacks, ThrowingCallbackIsReportedAndOthersStillRun) {
  Future<int> f;
  int ran = 0;
  f.add_done_callback([&](Future<int>) { ++ran; });
  f.add_done_callback([&](Future<int>) -> void { throw MyError("callback failed"); });
  f.add_done_callback([&](Future<int>) { ++ran; });
  ::testing::internal::CaptureStderr();
  f.set_result(0);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(ran, 2);
  EXPECT_NE(err.find("callback failed"), std::string::npos) << err;
  EXPECT_NE(err.find("MyError"), std::string::npos) << err;
  ::testing::internal::CaptureStderr();
  f.add_done_callback([&](Future<int>) -> void { throw MyError("late callback"); });
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("late callback"), std::string::npos);
}

TEST(FutureCallbacks, RacingAddAndCompleteRunEachExactlyOnce) {
  for (int round = 0; round < 200; ++round) {
    Future<int> f;
    std::atomic<int> ran{0};
    std::thread completer([&] { f.set_result(round); });
    for (int i = 0; i < 8; ++i) f.add_done_callback([&](Future<int>) { ++ran; });
    completer.join();
    EXPECT_EQ(ran.load(), 8);
  }
}

}  // namespace
