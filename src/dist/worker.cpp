// SPDX-License-Identifier: Apache-2.0
// dist::serve: a worker of one executor. Threads read tasks with a blocking group read,
// run them and write the result and the acknowledgement in one script (first writer
// wins); a heartbeat thread renews the lease of the running tasks; idle threads take
// back (or dead-letter) tasks whose worker went silent. Layout: dist/tasks.hpp.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "dist/redis.hpp"
#include "dist/tasks.hpp"
#include "weft/dist.hpp"

namespace weft::dist::detail {

namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// KEYS: tasks replies. ARGV: group entry-id instance task-id kind payload.
// Accepts the result only if the task is still pending (not acknowledged by another
// worker's result nor dead-lettered) and the executor still exists. Returns 1 if accepted.
const Script kResult(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('XADD', KEYS[2], '*', 'i', ARGV[3], 't', ARGV[4], 'k', ARGV[5], 'p', ARGV[6])
return 1
)lua");

// KEYS: tasks. ARGV: group consumer entry-id... Resets the idle time of the entries this
// consumer still owns. Returns how many it no longer owns, or -1 if the executor is gone.
const Script kRenew(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local lost = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #p == 1 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost = lost + 1
  end
end
return lost
)lua");

// KEYS: tasks dead replies. ARGV: group consumer lease-ms max-deliveries.
// Among entries idle longer than the lease: those delivered max-deliveries times go to
// the dead-letter stream and their executor gets an L reply; the first other one is
// claimed by this consumer (its delivery count goes up) and returned as {{id, fields}}.
const Script kReap(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], '-', '+', 16)
for _, p in ipairs(pending) do
  local id, count = p[1], p[4]
  if count >= tonumber(ARGV[4]) then
    local e = redis.call('XRANGE', KEYS[1], id, id)
    redis.call('XACK', KEYS[1], ARGV[1], id)
    redis.call('XDEL', KEYS[1], id)
    if #e == 1 then
      local f = e[1][2]
      local inst, tid, name = '', '', ''
      for j = 1, #f, 2 do
        if f[j] == 'i' then inst = f[j + 1] elseif f[j] == 't' then tid = f[j + 1]
        elseif f[j] == 'f' then name = f[j + 1] end
      end
      table.insert(f, 'deliveries')
      table.insert(f, tostring(count))
      redis.call('XADD', KEYS[2], '*', unpack(f))
      redis.call('XADD', KEYS[3], '*', 'i', inst, 't', tid, 'k', 'L',
                 'p', '(' .. name .. ': delivered ' .. count .. ' times)')
    end
  else
    local c = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], id)
    if #c > 0 and c[1] then return c end
  end
end
return {}
)lua");

std::atomic<bool> g_sigterm{false};
extern "C" void on_sigterm(int) { g_sigterm.store(true); }

struct Task {
  std::string entry, instance, tid, name, signature, args;
};

std::optional<Task> parse_entry(const redisReply* entry) {
  const redisReply* fields = element(entry, 1);
  if (!is_array(fields)) return std::nullopt;  // deleted meanwhile (a cancelled executor)
  return Task{std::string(text(element(entry, 0))), std::string(field(fields, "i")),
              std::string(field(fields, "t")), std::string(field(fields, "f")),
              std::string(field(fields, "s")), std::string(field(fields, "a"))};
}

// Runs the task's function; the reply kind ("R" / "E") and payload.
std::pair<const char*, std::string> execute(const Task& t) {
  const RemoteFunction* f = find_function(t.name);
  if (f == nullptr)
    return {"E", "weft::dist: no function '" + t.name +
                     "' is registered with WEFT_REMOTE in the worker (or it is registered twice)"};
  if (std::to_string(f->signature) != t.signature)
    return {"E", "weft::dist: signature mismatch for '" + t.name +
                     "': the submitter and the worker declare it differently; not run"};
  try {
    WireReader in(t.args);
    WireWriter out;
    f->invoke(f->fn, in, out);
    return {"R", std::move(out.buffer())};
  } catch (...) {
    return {"E", weft::detail::describe_current_exception()};
  }
}

class Worker {
 public:
  Worker(std::string_view url, const WorkerOptions& options)
      : pool_(url), keys_(pool_.endpoint().name), options_(options) {
    if (options.threads == 0) throw ValueError("weft::dist::serve: threads must be at least 1");
    if (options.lease < milliseconds(10)) throw ValueError("weft::dist::serve: lease must be at least 10 ms");
    if (options.max_deliveries == 0) throw ValueError("weft::dist::serve: max_deliveries must be at least 1");
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    consumer_ = std::string(host) + ":" + std::to_string(::getpid()) + ":" + random_hex();
    block_ = std::clamp(options.lease / 2, milliseconds(10), milliseconds(1000));
    pool_.borrow();  // a bad address, password or server fails serve() at once
  }

  void run() {
    note_gap();  // reaping starts after a lease of prompt answers
    std::thread heartbeat([this] { renew_loop(); });
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < options_.threads; ++i) threads.emplace_back([this] { work_loop(); });
    for (auto& t : threads) t.join();
    {
      std::scoped_lock hold(mu_);
      done_ = true;
    }
    wake_.notify_all();
    heartbeat.join();
  }

 private:
  bool stopping() const noexcept { return g_sigterm.load() || gone_.load(); }

  // Called on every failure, on the first success after one, and after a slow answer.
  void note_gap() noexcept { last_gap_.store(SteadyClock::now().time_since_epoch().count()); }
  // True when the server has answered promptly for at least a lease.
  bool healthy() const noexcept {
    const auto gap = SteadyClock::time_point(SteadyClock::duration(last_gap_.load()));
    return SteadyClock::now() - gap >= options_.lease;
  }
  // Notes a gap when a call took much longer than expected (a paused server, a stall).
  void check_latency(SteadyClock::time_point start, milliseconds expected) noexcept {
    if (SteadyClock::now() - start > expected + options_.lease / 4) note_gap();
  }

  // Claims the next reaping turn (one per lease / 2 per process).
  bool reap_due() noexcept {
    const auto now = SteadyClock::now().time_since_epoch().count();
    auto next = next_reap_.load();
    if (now < next) return false;
    return next_reap_.compare_exchange_strong(
        next, now + std::chrono::duration_cast<SteadyClock::duration>(options_.lease / 2).count());
  }

  std::optional<Task> reap(Connection& c) {
    if (!healthy()) return std::nullopt;
    const auto start = SteadyClock::now();
    const std::string lease = std::to_string(options_.lease.count());
    const std::string max = std::to_string(options_.max_deliveries);
    Reply r = kReap.run(c, {keys_.tasks, keys_.dead, keys_.replies}, {kGroup, consumer_, lease, max});
    check_latency(start, milliseconds(0));
    if (array_size(r.get()) == 0) return std::nullopt;
    return parse_entry(element(r.get(), 0));
  }

  std::optional<Task> read(Connection& c) {
    const auto start = SteadyClock::now();
    Reply r = c.command({"XREADGROUP", "GROUP", kGroup, consumer_, "COUNT", "1", "BLOCK",
                         std::to_string(block_.count()), "STREAMS", keys_.tasks, ">"},
                        block_);
    check_latency(start, block_);
    if (is_error(r.get())) {
      // NOGROUP: no stream or group (yet, or any more); UNBLOCKED: deleted while we waited.
      const std::string_view error = text(r.get());
      if (!error.starts_with("NOGROUP") && !error.starts_with("UNBLOCKED")) throw RuntimeError(std::string(error));
      if (seen_group_.load() || error.starts_with("UNBLOCKED")) {
        gone_.store(true);  // the executor was shut down
      } else {
        std::this_thread::sleep_for(block_);  // not created yet
      }
      return std::nullopt;
    }
    seen_group_.store(true);
    if (is_nil(r.get())) return std::nullopt;
    return parse_entry(element(element(element(r.get(), 0), 1), 0));
  }

  void work_loop() {
    milliseconds backoff(10);
    bool failing = false;
    while (!stopping()) {
      try {
        std::optional<Task> t;
        {
          auto c = pool_.borrow();
          if (failing) {
            note_gap();  // back after an outage: the lease clock restarts now
            failing = false;
          }
          if (reap_due()) t = reap(*c);
          if (!t) t = read(*c);
        }
        backoff = milliseconds(10);
        if (t) run_task(*t);
      } catch (const std::exception& e) {
        note_gap();
        failing = true;
        report(e.what());
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, milliseconds(1000));
      }
    }
  }

  void run_task(const Task& t) {
    {
      std::scoped_lock hold(mu_);
      running_.insert(t.entry);
    }
    const auto [kind, payload] = execute(t);
    write_result(t, kind, payload);
    std::scoped_lock hold(mu_);
    running_.erase(t.entry);
  }

  // Writes the result, retrying through outages (the lease stays renewed meanwhile);
  // gives up after a few tries once stopping (the task is then delivered again).
  void write_result(const Task& t, const char* kind, const std::string& payload) {
    milliseconds backoff(10);
    for (int attempt = 0;; ++attempt) {
      try {
        kResult.run(*pool_.borrow(), {keys_.tasks, keys_.replies},
                    {kGroup, t.entry, t.instance, t.tid, kind, payload});
        if (attempt > 0) note_gap();  // back after an outage
        return;
      } catch (const std::exception& e) {
        note_gap();
        report(e.what());
        if (gone_.load() || (g_sigterm.load() && attempt >= 3)) return;
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, milliseconds(1000));
      }
    }
  }

  void renew_loop() {
    const milliseconds every = std::max(options_.lease / 4, milliseconds(1));
    bool failing = false;
    std::unique_lock hold(mu_);
    while (!done_) {
      wake_.wait_for(hold, every);
      if (done_ || running_.empty()) continue;
      Args args{kGroup, consumer_};
      std::vector<std::string> ids(running_.begin(), running_.end());
      hold.unlock();
      for (const std::string& id : ids) args.push_back(id);
      const auto start = SteadyClock::now();
      try {
        if (integer(kRenew.run(*pool_.borrow(), {keys_.tasks}, args).get()) < 0) gone_.store(true);
        check_latency(start, milliseconds(0));
        if (failing) note_gap();  // back after an outage
        failing = false;
      } catch (const std::exception& e) {
        note_gap();
        failing = true;
        report(e.what());
      }
      hold.lock();
    }
  }

  // One line per distinct failure message in a row, so an outage does not flood stderr.
  void report(const char* what) {
    std::scoped_lock hold(report_mu_);
    if (last_report_ == what) return;
    last_report_ = what;
    std::fprintf(stderr, "weft::dist::serve(%s): %s\n", pool_.endpoint().url.c_str(), what);
  }

  ConnectionPool pool_;
  const ExecutorKeys keys_;
  const WorkerOptions options_;
  std::string consumer_;
  milliseconds block_{1000};
  std::atomic<bool> gone_{false}, seen_group_{false};
  std::atomic<SteadyClock::rep> last_gap_{0}, next_reap_{0};
  std::mutex mu_;  // guards running_, done_
  std::condition_variable wake_;
  std::set<std::string> running_;
  bool done_ = false;
  std::mutex report_mu_;
  std::string last_report_;
};

}  // namespace

}  // namespace weft::dist::detail

namespace weft::dist {

void serve(std::string url, WorkerOptions options) {
  detail::Worker worker(url, options);
  struct sigaction action {}, previous{};
  action.sa_handler = detail::on_sigterm;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  detail::g_sigterm.store(false);
  ::sigaction(SIGTERM, &action, &previous);
  try {
    worker.run();
  } catch (...) {
    ::sigaction(SIGTERM, &previous, nullptr);
    throw;
  }
  ::sigaction(SIGTERM, &previous, nullptr);
}

}  // namespace weft::dist
