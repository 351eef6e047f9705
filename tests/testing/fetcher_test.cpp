// SPDX-License-Identifier: Apache-2.0
// The example of docs/testing.md: a fetcher that retries with a per-attempt timeout and
// gives up when a Timer ends its total budget, tested in virtual time. The tests check
// the exact virtual time each outcome takes; they take milliseconds of real time.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "weft/errors.hpp"
#include "weft/event.hpp"
#include "weft/queue.hpp"
#include "weft/testing.hpp"
#include "weft/thread.hpp"
#include "weft/timer.hpp"

using namespace std::chrono_literals;

namespace {

// ---- the code under test (docs/testing.md) ----

struct Request {
  std::string key;
  std::shared_ptr<weft::Queue<std::string>> reply;  // one per attempt
};

// A slow server: answers each request after the delay its `delays` list gives (the
// last one repeats), one request at a time, until stop() is called.
class SlowServer {
 public:
  explicit SlowServer(std::vector<weft::clock::duration> delays)
      : delays_(std::move(delays)), thread_([this] { serve(); }) {
    thread_.start();
  }
  ~SlowServer() {
    stop_.set();
    requests_.shutdown(true);
    thread_.join();
  }
  weft::Queue<Request>& requests() { return requests_; }

 private:
  void serve() {
    try {
      for (std::size_t n = 0;; ++n) {
        Request r = requests_.get();
        if (stop_.wait(delays_[std::min(n, delays_.size() - 1)])) return;  // working...
        r.reply->put("value of " + r.key);
      }
    } catch (const weft::ShutDown&) {
    }
  }
  std::vector<weft::clock::duration> delays_;
  weft::Queue<Request> requests_;
  weft::Event stop_;
  weft::Thread thread_;
};

// Tries each attempt for `attempt_timeout`, waits `backoff` between attempts, and gives
// up once `budget` has passed since the call (a Timer ends the backoff early).
std::optional<std::string> fetch(weft::Queue<Request>& server, const std::string& key,
                                 weft::clock::duration attempt_timeout,
                                 weft::clock::duration backoff, weft::clock::duration budget) {
  weft::Event give_up;
  weft::Timer budget_timer(budget, [&] { give_up.set(); });
  budget_timer.start();
  std::optional<std::string> result;
  while (!give_up.is_set()) {
    auto reply = std::make_shared<weft::Queue<std::string>>();
    server.put(Request{key, reply});
    try {
      result = reply->get(attempt_timeout);
      break;
    } catch (const weft::Empty&) {
      if (give_up.wait(backoff)) break;  // the budget ran out while backing off
    }
  }
  budget_timer.cancel();
  budget_timer.join();
  return result;
}

// ---- the tests ----

TEST(RetryingFetcher, SucceedsOnTheThirdAttemptAtExactlyTheExpectedTime) {
  std::optional<std::string> got;
  weft::clock::duration took{};
  weft::testing::run([&] {
    SlowServer server({45s, 45s, 1s});  // two slow answers, then a fast one
    const auto begin = weft::clock::now();
    got = fetch(server.requests(), "k", 30s, 10s, 5min);
    took = weft::clock::now() - begin;
  });
  // Attempts at 0 s, 40 s and 80 s (30 s timeout + 10 s backoff each). The server
  // works on request 1 from 0 to 45 s, on request 2 from 45 to 90 s, and answers
  // request 3 at 91 s, within the third attempt's timeout.
  EXPECT_EQ(got, "value of k");
  EXPECT_EQ(took, 91s);
}

TEST(RetryingFetcher, GivesUpWhenTheBudgetTimerFires) {
  std::optional<std::string> got = "unset";
  weft::clock::duration took{};
  weft::testing::run([&] {
    SlowServer server({1h});
    const auto begin = weft::clock::now();
    got = fetch(server.requests(), "k", 30s, 10s, 115s);
    took = weft::clock::now() - begin;
  });
  // Attempts time out at 30, 70 and 110 s; the Timer ends the third backoff at 115 s.
  // (A budget of 120 s would end at the very instant the backoff does: waits that end
  // at the same virtual instant wake together, in no fixed order.)
  EXPECT_EQ(got, std::nullopt);
  EXPECT_EQ(took, 115s);
}

TEST(RetryingFetcher, ForgettingToStartTheServerIsADeadlockNotAHang) {
  // A server whose thread never answers and a fetch without a budget: every thread
  // waits with no timeout. The bubble reports it with the thread dump.
  EXPECT_THROW(weft::testing::run([] {
                 weft::Queue<Request> nobody_serves;
                 auto reply = std::make_shared<weft::Queue<std::string>>();
                 nobody_serves.put(Request{"k", reply});
                 reply->get();
               }),
               weft::testing::Deadlock);
}

}  // namespace
