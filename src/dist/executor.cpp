// SPDX-License-Identifier: Apache-2.0
// dist::Executor: sends tasks to the executor's stream and completes the futures from
// the replies stream on one collector thread. The function registry (WEFT_REMOTE).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "dist/redis.hpp"
#include "dist/tasks.hpp"
#include "weft/dist.hpp"

namespace weft::dist::detail {

// ---- registry ----

namespace {
struct Registry {
  std::mutex mu;
  std::vector<RemoteFunction> functions;
  std::vector<std::string> ambiguous;
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

bool register_function(RemoteFunction f) {
  Registry& r = registry();
  std::scoped_lock hold(r.mu);
  for (const RemoteFunction& g : r.functions) {
    if (g.name != f.name) continue;
    if (g.fn != f.fn || g.signature != f.signature) r.ambiguous.push_back(f.name);
    return true;
  }
  r.functions.push_back(std::move(f));
  return true;
}

const RemoteFunction* find_function(std::uintptr_t fn) {
  Registry& r = registry();
  std::scoped_lock hold(r.mu);
  for (const RemoteFunction& g : r.functions)
    if (g.fn == fn)
      return std::find(r.ambiguous.begin(), r.ambiguous.end(), g.name) == r.ambiguous.end() ? &g : nullptr;
  return nullptr;
}

const RemoteFunction* find_function(std::string_view name) {
  Registry& r = registry();
  std::scoped_lock hold(r.mu);
  if (std::find(r.ambiguous.begin(), r.ambiguous.end(), name) != r.ambiguous.end()) return nullptr;
  for (const RemoteFunction& g : r.functions)
    if (g.name == name) return &g;
  return nullptr;
}

std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string_view field(const redisReply* fields, std::string_view name) {
  for (std::size_t i = 0; i + 1 < array_size(fields); i += 2)
    if (text(element(fields, i)) == name) return text(element(fields, i + 1));
  return {};
}

// ---- executor ----

class ExecutorCore {
 public:
  explicit ExecutorCore(std::string_view url)
      : pool_(url), keys_(pool_.endpoint().name), instance_(random_hex()) {
    Reply r = pool_.command({"XGROUP", "CREATE", keys_.tasks, kGroup, "0", "MKSTREAM"});
    if (is_error(r.get()) && !text(r.get()).starts_with("BUSYGROUP"))
      throw RuntimeError("weft::dist::Executor: cannot create the task stream: " + std::string(text(r.get())));
    collector_ = std::thread([this] { collect(); });
  }

  ~ExecutorCore() {
    shutdown(true, false);
  }

  void submit(weft::detail::FutureStateBase* s, std::string_view name, std::uint64_t signature,
              std::string_view args, ResultDeliverer deliverer) {
    std::uint64_t id = 0;
    {
      std::scoped_lock hold(mu_);
      if (closed_) throw RuntimeError("cannot schedule new futures after shutdown");
      id = ++next_id_;
      pending_.emplace(id, Pending{s, deliverer});
    }
    try {
      const std::string tid = std::to_string(id), sig = std::to_string(signature);
      pool_.checked({"XADD", keys_.tasks, "*", "i", instance_, "t", tid, "f", name, "s", sig, "a", args});
    } catch (...) {
      std::scoped_lock hold(mu_);
      pending_.erase(id);  // the caller releases both references
      throw;
    }
  }

  void shutdown(bool wait, bool cancel_futures) {
    std::unique_lock hold(mu_);
    closed_ = true;
    if (cancel_futures)
      for (auto& [id, p] : pending_) p.s->cancel();
    if (!wait || cleaned_) return;
    // Wait for every future that is not cancelled (cancel() does not notify us: re-check).
    while (!stop_ && std::any_of(pending_.begin(), pending_.end(),
                                 [](const auto& e) { return e.second.s->phase() != weft::detail::FutureStateBase::kCancelled; }))
      idle_.wait_for(hold, std::chrono::milliseconds(100));
    stop_ = true;
    hold.unlock();
    if (collector_.joinable()) collector_.join();
    try {
      read_remaining();
    } catch (const std::exception&) {
      // counted for tests only; the keys are removed below anyway
    }
    hold.lock();
    for (auto& [id, p] : pending_) p.s->release();  // all cancelled
    pending_.clear();
    if (cleaned_) return;
    cleaned_ = true;
    hold.unlock();
    try {
      pool_.checked({"DEL", keys_.tasks, keys_.replies, keys_.dead});
    } catch (const std::exception& e) {
      std::fprintf(stderr, "weft::dist::Executor: could not remove %s from the server: %s\n",
                   pool_.endpoint().url.c_str(), e.what());
    }
  }

  std::size_t replies_received() const noexcept { return replies_.load(std::memory_order_relaxed); }

 private:
  struct Pending {
    weft::detail::FutureStateBase* s;
    ResultDeliverer deliver;
  };

  // The collector: reads replies (without removing them, so a lost connection loses
  // none), completes their futures, then deletes them from the stream.
  void collect() {
    std::chrono::milliseconds backoff(10);
    const std::chrono::milliseconds block(200);
    while (!stop_flag()) {
      try {
        auto c = pool_.borrow();
        Reply r = c->checked({"XREAD", "COUNT", "256", "BLOCK", std::to_string(block.count()), "STREAMS",
                              keys_.replies, last_},
                             block);
        backoff = std::chrono::milliseconds(10);
        if (is_nil(r.get())) continue;
        const redisReply* entries = element(element(r.get(), 0), 1);
        Args del{"XDEL", keys_.replies};
        std::vector<std::string> ids;
        ids.reserve(array_size(entries));
        for (std::size_t i = 0; i < array_size(entries); ++i) {
          const redisReply* e = element(entries, i);
          ids.emplace_back(text(element(e, 0)));
          deliver(element(e, 1));
        }
        last_ = ids.back();
        for (const std::string& id : ids) del.push_back(id);
        c->checked(del);
      } catch (const std::exception& e) {
        // A lost server: retry with backoff (futures wait; their own timeouts apply).
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      }
    }
  }

  // After the collector stopped: the replies still unread (late duplicates, strays).
  void read_remaining() {
    Reply r = pool_.checked({"XRANGE", keys_.replies, "(" + last_, "+"});
    for (std::size_t i = 0; i < array_size(r.get()); ++i) deliver(element(element(r.get(), i), 1));
  }

  bool stop_flag() {
    std::scoped_lock hold(mu_);
    return stop_;
  }

  void deliver(const redisReply* fields) {
    replies_.fetch_add(1, std::memory_order_relaxed);
    if (field(fields, "i") != instance_) return;  // an earlier executor of this NAME
    const std::string_view tid = field(fields, "t");
    std::uint64_t id = 0;
    for (char ch : tid) id = id * 10 + static_cast<std::uint64_t>(ch - '0');
    Pending p{};
    {
      std::scoped_lock hold(mu_);
      auto it = pending_.find(id);
      if (it == pending_.end()) return;  // a duplicate (cannot happen) or a cancelled task
      p = it->second;
      pending_.erase(it);
      if (pending_.empty()) idle_.notify_all();
    }
    if (!p.s->try_claim()) {  // cancelled meanwhile
      p.s->release();
      return;
    }
    const std::string_view kind = field(fields, "k");
    const std::string_view payload = field(fields, "p");
    if (kind == "R") {
      WireReader in(payload);
      p.deliver(p.s, in);
    } else if (kind == "L") {
      p.s->finish_with(std::make_exception_ptr(WorkerLost(
          "weft::dist: the workers running this task died or went silent " + std::string(payload))));
    } else {
      p.s->finish_with(std::make_exception_ptr(RemoteError(std::string(payload))));
    }
    p.s->release();
  }

  ConnectionPool pool_;
  const ExecutorKeys keys_;
  const std::string instance_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_map<std::uint64_t, Pending> pending_;
  std::uint64_t next_id_ = 0;
  bool closed_ = false, stop_ = false, cleaned_ = false;
  std::atomic<std::size_t> replies_{0};
  std::string last_ = "0-0";  // the last reply read (collector thread, then shutdown)
  std::thread collector_;
};

ExecutorCore* make_executor(std::string url) { return new ExecutorCore(url); }
void destroy_executor(ExecutorCore* core) noexcept { delete core; }
void executor_submit(ExecutorCore* core, weft::detail::FutureStateBase* s, std::string_view name,
                     std::uint64_t signature, std::string_view args, ResultDeliverer deliver) {
  core->submit(s, name, signature, args, deliver);
}
void executor_shutdown(ExecutorCore* core, bool wait, bool cancel_futures) { core->shutdown(wait, cancel_futures); }
std::size_t executor_replies_received(ExecutorCore* core) noexcept { return core->replies_received(); }

}  // namespace weft::dist::detail
