// SPDX-License-Identifier: Apache-2.0
// dist::Queue's waits x the four stops of <weft/cancel.hpp> (as tests/cancel/matrix_test.cpp
// for the local calls): a get blocked on the server (BLMPOP), a put on a full queue and a
// join, each ended by a stopped CancelScope, Thread::request_stop, a Timeout scope and
// Ctrl-C (the main thread of a child process). The call throws the stop's exception and the
// queue is intact: a stopped get took no item, a stopped put inserted none, a stopped join
// changed no count. The stop comes once the caller is parked in weft (and, for a get, once
// the server reports the blocked pop); a Timeout runs on the real clock (a server cannot be
// part of virtual time), and only its exception is checked, not when it came.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>

#include "cancel/child_process.hpp"
#include "cancel/stop_outcome.hpp"
#include "redis_server.hpp"
#include "support/blocking.hpp"
#include "weft/cancel.hpp"
#include "weft/dist.hpp"
#include "weft/thread.hpp"

namespace {

using namespace std::chrono_literals;
using weft::dist::Queue;

enum class What { kGet, kPutFull, kJoin };
enum class Stop { kCancelScope, kRequestStop, kTimeout, kCtrlC };

const char* name_of(What w) {
  switch (w) {
    case What::kGet: return "Get";
    case What::kPutFull: return "PutFull";
    case What::kJoin: return "Join";
  }
  return "?";
}
const char* name_of(Stop s) {
  switch (s) {
    case Stop::kCancelScope: return "CancelScope";
    case Stop::kRequestStop: return "RequestStop";
    case Stop::kTimeout: return "Timeout";
    case Stop::kCtrlC: return "CtrlC";
  }
  return "?";
}

// How many clients the server reports blocked in a blocking command.
long blocked_clients(const std::string& url) {
  weft::dist::detail::ConnectionPool pool(url);
  const weft::dist::detail::Reply r = pool.checked({"INFO", "clients"});
  const std::string_view info = weft::dist::detail::text(r.get());
  const auto at = info.find("blocked_clients:");
  return at == std::string_view::npos ? -1 : std::atol(info.data() + at + 16);
}

// One queue in the state the call blocks on, and what "intact" means for it.
class QueueCall {
 public:
  QueueCall(What what, const std::string& url)
      : what_(what), url_(url), q_(url, what == What::kPutFull ? 1 : 0) {
    if (what_ == What::kPutFull) q_.put(1);
    if (what_ == What::kJoin) {
      q_.put(1);
      (void)q_.get();  // one unfinished task
    }
  }
  // The blocking call, on its own handle (as another process would have).
  void block() {
    Queue<int> mine(url_, what_ == What::kPutFull ? 1 : 0);
    switch (what_) {
      case What::kGet: (void)mine.get(); break;
      case What::kPutFull: mine.put(2); break;
      case What::kJoin: mine.join(); break;
    }
  }
  // The call is blocked: parked in weft, and for a get, blocked on the server too.
  bool blocked(std::uint64_t ident) {
    if (!weft::testing::wait_until_parked(ident)) return false;
    if (what_ != What::kGet) return true;
    for (int i = 0; i < 60'000; ++i) {
      if (blocked_clients(url_) >= 1) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
  void expect_intact() {
    switch (what_) {
      case What::kGet:
        EXPECT_EQ(q_.qsize(), 0u);
        q_.put(7);
        EXPECT_EQ(q_.get_nowait(), 7) << "the stopped get took the item";
        break;
      case What::kPutFull:
        EXPECT_EQ(q_.qsize(), 1u) << "the stopped put inserted its item";
        EXPECT_EQ(q_.get_nowait(), 1);
        break;
      case What::kJoin:
        q_.task_done();
        EXPECT_TRUE(q_.join(0s)) << "the stopped join changed the count";
        break;
    }
  }
  // Makes a blocked block() return (only when a stop failed to end it).
  void release() {
    if (what_ == What::kJoin) {
      q_.task_done();
    } else {
      (void)q_.shutdown(true);
    }
  }

 private:
  const What what_;
  const std::string url_;
  Queue<int> q_;
};

template <class Join>
void stop_once_blocked(QueueCall& call, std::uint64_t ident, const std::function<void()>& stop,
                       Join join) {
  EXPECT_TRUE(call.blocked(ident)) << "the call never blocked";
  stop();
  EXPECT_FALSE(weft::testing::run_with_rescue(join, [&] { call.release(); }))
      << "the stop did not end the blocked call";
}

constexpr const char* kChildVariable = "WEFT_DIST_CANCEL_CHILD";
constexpr const char* kUrlVariable = "WEFT_DIST_CANCEL_URL";

// In the child: the main thread blocks; a helper tells the parent once it is blocked.
TEST(DistCancelChild, BlockedCallGetsCtrlC) {
  const char* what = std::getenv(kChildVariable);
  const char* url = std::getenv(kUrlVariable);
  if (what == nullptr || url == nullptr) GTEST_SKIP() << "runs in a child process of DistCancel.*";
  weft::install_keyboard_interrupt();
  QueueCall call(static_cast<What>(std::atoi(what)), url);
  const std::uint64_t main_ident = weft::get_ident();
  std::thread tell_parent([&] {
    if (call.blocked(main_ident)) weft::testing::child::signal_ready();
  });
  const Ended ended = run_block<weft::KeyboardInterrupt>(call);
  tell_parent.join();
  expect_expected(ended, "the stop's exception");
  call.expect_intact();
}

class DistCancel : public ::testing::TestWithParam<std::tuple<What, Stop>> {};

TEST_P(DistCancel, BlockedCallThrowsAndLeavesTheQueueIntact) {
  WEFT_REQUIRE_REDIS();
  weft_test::RedisServer server;
  const What what = std::get<0>(GetParam());
  const Stop stop = std::get<1>(GetParam());
  const std::string url = server.url(std::string("cancel") + name_of(what));
  if (stop == Stop::kCtrlC) {
    ::setenv(kUrlVariable, url.c_str(), 1);
    const int status = weft::testing::child::run(
        {"DistCancelChild.BlockedCallGetsCtrlC", kChildVariable,
         std::to_string(static_cast<int>(what))},
        true);
    ::unsetenv(kUrlVariable);
    EXPECT_TRUE(weft::testing::child::exited_with(status, 0)) << "the child's failures are above";
    return;
  }
  QueueCall call(what, url);
  std::atomic<Ended> ended{Ended::kRunning};
  if (stop == Stop::kRequestStop) {
    weft::Thread t([&] { ended = run_block<weft::CancelledError>(call); });
    t.start();
    stop_once_blocked(call, *t.ident(), [&] { t.request_stop(); }, [&] { t.join(); });
  } else {
    std::stop_source source;
    std::atomic<std::uint64_t> ident{0};
    std::thread t([&] {
      ident = weft::get_ident();
      if (stop == Stop::kCancelScope) {
        weft::CancelScope scope(source.get_token());
        ended = run_block<weft::CancelledError>(call);
      } else {
        weft::Timeout budget(300ms);
        ended = run_block<weft::TimeoutError>(call);
      }
    });
    while (ident.load() == 0) std::this_thread::yield();
    if (stop == Stop::kCancelScope) {
      stop_once_blocked(call, ident, [&] { source.request_stop(); }, [&] { t.join(); });
    } else {
      EXPECT_FALSE(weft::testing::run_with_rescue([&] { t.join(); }, [&] { call.release(); }));
    }
  }
  expect_expected(ended, "the stop's exception");
  call.expect_intact();
}

std::string cell_name(const ::testing::TestParamInfo<DistCancel::ParamType>& cell) {
  return std::string(name_of(std::get<0>(cell.param))) + "_" + name_of(std::get<1>(cell.param));
}

INSTANTIATE_TEST_SUITE_P(
    CallsByStops, DistCancel,
    ::testing::Combine(::testing::Values(What::kGet, What::kPutFull, What::kJoin),
                       ::testing::Values(Stop::kCancelScope, Stop::kRequestStop, Stop::kTimeout,
                                         Stop::kCtrlC)),
    cell_name);

}  // namespace
