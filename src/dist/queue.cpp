// SPDX-License-Identifier: Apache-2.0
// dist::Queue's server side. Keys of queue NAME (weft:q:{NAME}:PART):
//   items       list of "ID:PAYLOAD", FIFO (RPUSH / LPOP)
//   unfinished  set of the IDs put and not yet counted by task_done or a drain
//   seq         the last ID given
//   shutdown    exists once the queue is shut down
//   wake        a list holding one token once shut down: blocked getters wait on
//               items and wake together, so each getter that takes the token puts
//               it back and the next one wakes
#include <algorithm>
#include <charconv>
#include <deque>
#include <mutex>
#include <thread>

#include "dist/redis.hpp"
#include "weft/dist.hpp"

namespace weft::dist::detail {

namespace {

using std::chrono::milliseconds;

// KEYS: items unfinished seq shutdown. ARGV: maxsize payload... Returns -1 when shut
// down, else how many payloads went in (stops at the bound).
const Script kPut(R"lua(
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
local max = tonumber(ARGV[1])
local n = 0
for i = 2, #ARGV do
  if max > 0 and redis.call('LLEN', KEYS[1]) >= max then break end
  local id = redis.call('INCR', KEYS[3])
  redis.call('RPUSH', KEYS[1], id .. ':' .. ARGV[i])
  redis.call('SADD', KEYS[2], id)
  n = n + 1
end
return n
)lua");

// KEYS: items shutdown. ARGV: count. Returns {1, {items}}, {2} when shut down and
// empty, {0} when empty.
const Script kPop(R"lua(
local v = redis.call('LPOP', KEYS[1], ARGV[1])
if v then return {1, v} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {2} end
return {0}
)lua");

// KEYS: items unfinished shutdown wake. ARGV: "1" for immediate. Returns the drained items.
const Script kShutdown(R"lua(
redis.call('SET', KEYS[3], '1')
redis.call('DEL', KEYS[4])
redis.call('RPUSH', KEYS[4], '1')
if ARGV[1] ~= '1' then return {} end
local v = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
for _, e in ipairs(v) do redis.call('SREM', KEYS[2], string.match(e, '^(%d+):')) end
return v
)lua");

constexpr std::size_t kMaxBatch = 512;  // payloads per server script call

// Sleeps before the next check of a condition the server cannot wake us for: 1 ms,
// doubling up to 50 ms, never past the deadline.
void pause_before_retry(milliseconds& step, Deadline deadline) {
  const auto now = weft::detail::Clock::now();
  if (now >= deadline) return;
  const auto left = deadline - now;
  std::this_thread::sleep_for(left < step ? std::chrono::duration_cast<std::chrono::nanoseconds>(left)
                                          : std::chrono::nanoseconds(step));
  step = std::min(step * 2, milliseconds(50));
}

std::string seconds_text(milliseconds t) {
  const auto ms = std::max<std::int64_t>(t.count(), 1);
  return std::to_string(ms / 1000) + "." + std::to_string(1000 + ms % 1000).substr(1);
}

}  // namespace

struct QueueCore::Impl {
  Impl(std::string_view url, std::size_t max)
      : pool(url),
        maxsize(max),
        items(key("q", pool.endpoint().name, "items")),
        unfinished(key("q", pool.endpoint().name, "unfinished")),
        seq(key("q", pool.endpoint().name, "seq")),
        shut(key("q", pool.endpoint().name, "shutdown")),
        wake(key("q", pool.endpoint().name, "wake")),
        maxsize_text(std::to_string(max)) {
    pool.borrow();  // connect now: a bad URL or server fails the constructor
  }

  // Takes "ID:PAYLOAD" elements, remembers the IDs for task_done, returns the payloads.
  void take(const redisReply* list, std::vector<std::string>& out) {
    std::scoped_lock hold(mu);
    for (std::size_t i = 0; i < array_size(list); ++i) {
      const std::string_view e = text(element(list, i));
      const std::size_t colon = e.find(':');
      if (colon == std::string_view::npos) throw RuntimeError("weft::dist::Queue: malformed item on the server");
      delivered.emplace_back(e.substr(0, colon));
      out.emplace_back(e.substr(colon + 1));
    }
  }

  ConnectionPool pool;
  const std::size_t maxsize;
  const std::string items, unfinished, seq, shut, wake, maxsize_text;
  std::mutex mu;
  std::deque<std::string> delivered;  // IDs got by this handle, not yet task_done()
};

QueueCore::QueueCore(std::string url, std::size_t maxsize) : impl_(std::make_unique<Impl>(url, maxsize)) {}
QueueCore::~QueueCore() = default;

std::size_t QueueCore::maxsize() const noexcept { return impl_->maxsize; }

Status QueueCore::put(std::string_view payload, Deadline deadline) {
  Impl& q = *impl_;
  milliseconds step(1);
  for (;;) {
    const std::int64_t n = integer(
        kPut.run(*q.pool.borrow(), {q.items, q.unfinished, q.seq, q.shut}, {q.maxsize_text, payload}).get());
    if (n < 0) return Status::shutdown;
    if (n == 1) return Status::ok;
    if (weft::detail::Clock::now() >= deadline) return Status::full;
    pause_before_retry(step, deadline);
  }
}

std::size_t QueueCore::put_many(std::span<const std::string> payloads, Deadline deadline) {
  Impl& q = *impl_;
  std::size_t done = 0;
  milliseconds step(1);
  while (done < payloads.size()) {
    Args args{q.maxsize_text};
    const std::size_t n = std::min(kMaxBatch, payloads.size() - done);
    for (std::size_t i = 0; i < n; ++i) args.push_back(payloads[done + i]);
    const std::int64_t put =
        integer(kPut.run(*q.pool.borrow(), {q.items, q.unfinished, q.seq, q.shut}, args).get());
    if (put < 0) {
      if (done == 0) throw ShutDown();
      return done;
    }
    done += static_cast<std::size_t>(put);
    if (put != 0) {
      step = milliseconds(1);
    } else {
      if (weft::detail::Clock::now() >= deadline) return done;
      pause_before_retry(step, deadline);
    }
  }
  return done;
}

Status QueueCore::get(std::size_t max_items, Deadline deadline, std::vector<std::string>& out) {
  Impl& q = *impl_;
  const std::string count = std::to_string(std::max<std::size_t>(max_items, 1));
  const milliseconds budget = q.pool.endpoint().timeout;
  for (;;) {
    auto c = q.pool.borrow();
    Reply r = kPop.run(*c, {q.items, q.shut}, {count});
    const std::int64_t what = integer(element(r.get(), 0));
    if (what == 1) {
      q.take(element(r.get(), 1), out);
      return Status::ok;
    }
    if (what == 2) return Status::shutdown;
    const auto now = weft::detail::Clock::now();
    if (now >= deadline) return Status::empty;
    // Block on the server for a slice of at most the budget; the socket waits longer.
    const milliseconds slice = deadline == weft::detail::kForever
                                   ? budget
                                   : std::min(budget, std::chrono::ceil<milliseconds>(deadline - now));
    Reply b = c->checked({"BLMPOP", seconds_text(slice), "2", q.items, q.wake, "LEFT", "COUNT", count}, slice);
    if (is_nil(b.get())) continue;
    if (text(element(b.get(), 0)) == q.wake) {
      c->checked({"RPUSH", q.wake, "1"});  // the next blocked getter wakes too
      continue;                             // kPop now reports the shutdown
    }
    q.take(element(b.get(), 1), out);
    return Status::ok;
  }
}

void QueueCore::task_done() {
  Impl& q = *impl_;
  std::string id;
  {
    std::scoped_lock hold(q.mu);
    if (q.delivered.empty())
      throw ValueError("task_done() called more times than this handle got items");
    id = std::move(q.delivered.front());
    q.delivered.pop_front();
  }
  try {
    q.pool.checked({"SREM", q.unfinished, id});
  } catch (...) {
    std::scoped_lock hold(q.mu);
    q.delivered.push_front(std::move(id));  // not counted: a retry counts it
    throw;
  }
}

bool QueueCore::join(Deadline deadline) {
  Impl& q = *impl_;
  milliseconds step(1);
  for (;;) {
    if (integer(q.pool.checked({"SCARD", q.unfinished}).get()) == 0) return true;
    if (weft::detail::Clock::now() >= deadline) return false;
    pause_before_retry(step, deadline);
  }
}

std::size_t QueueCore::qsize() {
  return static_cast<std::size_t>(integer(impl_->pool.checked({"LLEN", impl_->items}).get()));
}

bool QueueCore::is_shutdown() {
  return integer(impl_->pool.checked({"EXISTS", impl_->shut}).get()) == 1;
}

std::vector<std::string> QueueCore::shutdown(bool immediate) {
  Impl& q = *impl_;
  Reply r = kShutdown.run(*q.pool.borrow(), {q.items, q.unfinished, q.shut, q.wake}, {immediate ? "1" : "0"});
  std::vector<std::string> out;
  for (std::size_t i = 0; i < array_size(r.get()); ++i) {
    const std::string_view e = text(element(r.get(), i));
    out.emplace_back(e.substr(e.find(':') + 1));
  }
  return out;
}

}  // namespace weft::dist::detail
