// ThreadPoolExecutor's core: an intrusive FIFO of task states under one Lock, lazily
// started workers, idle workers parked on epoch_, and helping waits.
//
// Sleep / wake protocol (no lost wake-up, no wake-up when nobody sleeps):
//   (E1) a worker about to sleep increments sleepers_ (seq_cst), reads epoch_, re-reads
//        queued_ and parks on &epoch_ validating that epoch_ is unchanged.
//   (E2) submit() increments queued_ (seq_cst, under lock_) and then reads sleepers_ /
//        helpers_; if any, it bumps epoch_ and unparks. By (E1)/(E2) either the worker
//        sees the new item or submit sees the sleeper (store-load on seq_cst atomics).
//   (E3) a worker waiting in Future::result() for a task of its own pool ("helper")
//        registers in helping_ and helpers_ first, then parks on that future's key
//        validating both "not done" and "epoch_ unchanged"; submit unparks helpers on
//        their futures' keys, so a helper runs new work instead of sleeping through it.
//   (E4) backpressure: submitters blocked on a full queue park on &space_epoch_; every
//        pop that sees space_waiters_ bumps it and unparks one.
//   (E5) spinning_ is a token (0 or 1, taken by CAS 0 -> 1) held by the one idle worker
//        that spins before it sleeps, or by a wake-up in flight: the waker takes it and
//        hands it to the worker it unparks (park token kSpinToken), so a burst of submits
//        wakes one sleeper, not one per submit. While it is held, submit() does not wake
//        anyone: every holder releases it with fetch_sub (seq_cst) and then re-reads
//        queued_ (seq_cst), which follows submit's increment in the seq_cst order
//        (submit read the token held before that fetch_sub), and pops or wakes again.
//   (E6) chain wake: a worker that pops a task while more are queued wakes one sleeper
//        (through E5), so a burst reaches every worker one by one.
#include <algorithm>
#include <cstdio>
#include <mutex>
#include <thread>

#include "weft/detail/backoff.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/errors.hpp"
#include "weft/futures.hpp"
#include "weft/thread.hpp"

namespace weft::detail {

class alignas(64) ThreadPoolCore final : public ExecutorCore {
 public:
  ThreadPoolCore(std::size_t max_workers, std::string prefix, std::function<void()> init)
      : max_workers_(max_workers != 0 ? max_workers : default_workers()),
        prefix_(prefix.empty() ? default_prefix() : std::move(prefix)),
        init_(std::move(init)) {
    // Named by its thread-name prefix in debug statistics and traces.
    hooks::object_named(static_cast<ExecutorCore*>(this), ObjKind::executor, prefix_);
  }

  ~ThreadPoolCore() {
    shutdown(true, false);
    hooks::object_destroyed(static_cast<ExecutorCore*>(this));
  }

  bool submit(FutureStateBase* t, Deadline deadline) {
    if (max_pending_.load(std::memory_order_relaxed) != 0 && !wait_for_space(deadline))
      return false;
    if (debug_on()) {
      t->task_id_ = next_task_id_.fetch_add(1, std::memory_order_relaxed) + 1;
      hooks::task_submitted(static_cast<ExecutorCore*>(this), t->task_id_);  // queue-wait stats
    }
    {
      std::unique_lock hold(lock_);
      if (shutdown_.load(std::memory_order_relaxed))
        throw RuntimeError("cannot schedule new futures after shutdown");
      if (broken_) throw BrokenExecutor(kBrokenMessage);
      // Python's rule: reuse an idle worker, else start one while below max_workers.
      // Once every worker is started, idle tokens no longer matter (see worker_main).
      if (threads_.size() < max_workers_ && !take_idle_token()) {
        // Before queueing: if no thread can be started at all, submit fails cleanly.
        try {
          start_worker_locked();
        } catch (...) {
          if (threads_.empty()) throw;  // otherwise the existing workers run it
        }
      }
      t->next_ = nullptr;
      if (tail_ != nullptr) {
        tail_->next_ = t;
      } else {
        head_ = t;
      }
      tail_ = t;
      queued_.fetch_add(1, std::memory_order_seq_cst);  // (E2)
    }
    wake_for_new_work();
    return true;
  }

  void shutdown(bool wait, bool cancel_futures) {
    FutureStateBase* drained = nullptr;
    {
      std::scoped_lock hold(lock_);
      shutdown_.store(true, std::memory_order_seq_cst);
      if (cancel_futures) drained = take_all_locked();
    }
    // Tasks that were queued: each is cancelled here unless a helper already claimed it.
    while (drained != nullptr) {
      FutureStateBase* next = drained->next_;
      drained->cancel();
      drained->release();
      drained = next;
    }
    wake_everyone();
    if (!wait) return;
    std::scoped_lock joining(join_lock_);
    std::size_t n;
    {
      std::scoped_lock hold(lock_);
      n = threads_.size();
    }
    Thread* self = &current_thread();
    for (std::size_t i = 0; i < n; ++i) {
      Thread* th = threads_[i].get();
      if (th != self) th->join();  // finished ones return at once
    }
  }

  bool help_until(FutureStateBase* s, Deadline deadline, SourceLoc loc) override {
    // The awaited task is still queued: run it here (its queue entry becomes a no-op).
    if (s->phase() == FutureStateBase::kPending) s->run();
    if (s->done()) return true;
    {
      std::scoped_lock hold(lock_);
      helping_.push_back(s);
      helpers_.fetch_add(1, std::memory_order_seq_cst);  // (E3)
    }
    for (;;) {
      if (s->done()) break;
      if (FutureStateBase* t = pop()) {
        run_task(t);
        continue;
      }
      if (deadline != kForever && Clock::now() >= deadline) break;
      const std::uint32_t e = epoch_.load(std::memory_order_seq_cst);
      if (queued_.load(std::memory_order_seq_cst) != 0) continue;
      s->park_once(deadline, loc, [&] { return epoch_.load(std::memory_order_relaxed) == e; });
    }
    {
      std::scoped_lock hold(lock_);
      helping_.erase(std::find(helping_.begin(), helping_.end(), s));
      helpers_.fetch_sub(1, std::memory_order_relaxed);
    }
    return s->done();
  }

  void set_max_pending(std::size_t n) noexcept {
    max_pending_.store(n, std::memory_order_relaxed);
    space_epoch_.fetch_add(1, std::memory_order_seq_cst);
    unpark_all(&space_epoch_);
  }

 private:
  static constexpr ParkToken kSpinToken = 1;  // (E5) the woken worker holds spinning_
  static constexpr const char* kBrokenMessage =
      "A thread initializer failed, the thread pool is not usable anymore";

  static std::size_t default_workers() {
    const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    return std::min<std::size_t>(32, cores + 4);
  }
  static std::string default_prefix() {
    static std::atomic<unsigned> counter{0};
    return "ThreadPoolExecutor-" + std::to_string(counter.fetch_add(1));
  }

  // Under lock_: detaches the whole queue and returns its head.
  FutureStateBase* take_all_locked() noexcept {
    FutureStateBase* h = head_;
    head_ = tail_ = nullptr;
    queued_.store(0, std::memory_order_seq_cst);
    return h;
  }

  // One queued task, or null. Wakes a blocked submitter when there is room (E4).
  FutureStateBase* pop() {
    FutureStateBase* t;
    {
      std::scoped_lock hold(lock_);
      t = head_;
      if (t == nullptr) return nullptr;
      head_ = t->next_;
      if (head_ == nullptr) tail_ = nullptr;
      queued_.fetch_sub(1, std::memory_order_seq_cst);
    }
    if (space_waiters_.load(std::memory_order_seq_cst) != 0) {
      space_epoch_.fetch_add(1, std::memory_order_seq_cst);
      unpark_one(&space_epoch_);
    }
    return t;
  }

  bool take_idle_token() noexcept {
    std::uint32_t idle = idle_.load(std::memory_order_relaxed);
    while (idle != 0) {
      if (idle_.compare_exchange_weak(idle, idle - 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  void give_idle_token() noexcept {
    if (!full_.load(std::memory_order_relaxed)) idle_.fetch_add(1, std::memory_order_relaxed);
  }

  static void run_task(FutureStateBase* t) noexcept {
    if (t->execute()) {
      t->finish_and_release();
    } else {
      t->release();
    }
  }

  bool wait_for_space(Deadline deadline) {
    for (;;) {
      const std::size_t limit = max_pending_.load(std::memory_order_relaxed);
      if (limit == 0 || queued_.load(std::memory_order_seq_cst) < limit) return true;
      if (shutdown_.load(std::memory_order_seq_cst) || broken_) return true;  // submit throws
      if (current_executor() == this) {
        // A worker of this pool must not block on its own queue: work instead.
        if (FutureStateBase* t = pop()) run_task(t);
        continue;
      }
      if (Clock::now() >= deadline) return false;
      space_waiters_.fetch_add(1, std::memory_order_seq_cst);  // (E4)
      const std::uint32_t e = space_epoch_.load(std::memory_order_seq_cst);
      if (queued_.load(std::memory_order_seq_cst) >= limit &&
          !shutdown_.load(std::memory_order_seq_cst)) {
        park(
            &space_epoch_,
            [&] { return space_epoch_.load(std::memory_order_relaxed) == e; }, deadline,
            WaitSite{this, ObjKind::executor, SourceLoc{}});
      }
      space_waiters_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  // (E5) Wakes one sleeping worker unless the spinning token is held; the woken worker
  // receives the token. If nobody was parked yet (a sleeper between (E1)'s increment
  // and its park), gives the token back and retries while work and sleepers remain.
  void wake_one_sleeper() {
    Backoff backoff;
    for (;;) {
      if (sleepers_.load(std::memory_order_seq_cst) == 0) return;
      std::uint32_t none = 0;
      if (spinning_.load(std::memory_order_seq_cst) != 0 ||
          !spinning_.compare_exchange_strong(none, 1, std::memory_order_seq_cst))
        return;  // its holder re-reads queued_ after giving it back
      epoch_.fetch_add(1, std::memory_order_seq_cst);
      bool handed = false;
      unpark_one(&epoch_, [&](UnparkResult r) -> ParkToken {
        handed = r.unparked != 0;
        return kSpinToken;
      });
      if (handed) return;
      spinning_.fetch_sub(1, std::memory_order_seq_cst);
      if (queued_.load(std::memory_order_seq_cst) == 0) return;
      if (!backoff.spin()) std::this_thread::yield();
    }
  }

  void wake_for_new_work() {
    // (E2) (E5)
    wake_one_sleeper();
    if (helpers_.load(std::memory_order_seq_cst) != 0) {
      epoch_.fetch_add(1, std::memory_order_seq_cst);
      std::scoped_lock hold(lock_);
      for (FutureStateBase* s : helping_) unpark_all(s->park_key());
    }
  }

  void wake_everyone() {
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    unpark_all(&epoch_);
    space_epoch_.fetch_add(1, std::memory_order_seq_cst);
    unpark_all(&space_epoch_);
  }

  // Workers are daemon weft::Threads: an executor that is never destroyed does not
  // keep the program from exiting (Python joins them at exit instead).
  void start_worker_locked() {
    const std::size_t index = threads_.size();
    auto th = std::make_unique<Thread>(ThreadOptions{prefix_ + "_" + std::to_string(index), true},
                                       [this] { worker_main(); });
    th->start();  // returns once the thread runs; it takes lock_ only inside run()
    threads_.push_back(std::move(th));
    if (threads_.size() == max_workers_) full_.store(true, std::memory_order_relaxed);
  }

  // Next task for a worker, sleeping while the queue is empty; null: time to exit.
  // `announced`: this worker already gave an idle token (see worker_main).
  FutureStateBase* next_task(bool& announced) {
    for (;;) {
      if (FutureStateBase* t = pop()) {
        announced = false;
        // (E6) more work than this worker: hand it to a sleeper.
        if (queued_.load(std::memory_order_seq_cst) != 0) wake_one_sleeper();
        return t;
      }
      if (shutdown_.load(std::memory_order_seq_cst) || broken_) return nullptr;
      if (!announced) {
        give_idle_token();
        announced = true;
      }
      // (E5) one spinner at a time: more would only take the cores the others need.
      std::uint32_t none = 0;
      if (spinning_.load(std::memory_order_relaxed) == 0 &&
          spinning_.compare_exchange_strong(none, 1, std::memory_order_seq_cst)) {
        Backoff backoff;
        while (queued_.load(std::memory_order_relaxed) == 0 && backoff.spin()) {
        }
        spinning_.fetch_sub(1, std::memory_order_seq_cst);  // (E5)
        if (queued_.load(std::memory_order_seq_cst) != 0) continue;
      }
      sleepers_.fetch_add(1, std::memory_order_seq_cst);  // (E1)
      const std::uint32_t e = epoch_.load(std::memory_order_seq_cst);
      bool token = false;
      if (queued_.load(std::memory_order_seq_cst) == 0 &&
          !shutdown_.load(std::memory_order_seq_cst) && !broken_) {
        const ParkResult r = park(
            &epoch_, [&] { return epoch_.load(std::memory_order_relaxed) == e; }, kForever,
            WaitSite{this, ObjKind::executor, SourceLoc{}, true});
        token = r.status == ParkStatus::kUnparked && r.token == kSpinToken;
      }
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      // (E5) the waker's token: give it back; the pop at the top re-reads the queue.
      if (token) spinning_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  void worker_main() {
    current_executor() = this;
    if (init_) {
      try {
        init_();
      } catch (...) {
        const std::string what = describe_current_exception();
        std::fprintf(stderr, "Exception in initializer: %s\n", what.c_str());
        break_pool();
        return;
      }
    }
    // Idle tokens (Python's idle semaphore): a worker that finds the queue empty when
    // a task ends gives one *before* completing the future, so a caller that waited for
    // that result and submits again reuses this worker instead of starting another.
    bool announced = false;
    while (FutureStateBase* t = next_task(announced)) {
      if (t->execute()) {
        if (queued_.load(std::memory_order_relaxed) == 0) {
          give_idle_token();
          announced = true;
        }
        t->finish_and_release();
      } else {
        t->release();
      }
    }
  }

  // An initializer failed: every queued task and every later submit fail.
  void break_pool() {
    FutureStateBase* drained;
    {
      std::scoped_lock hold(lock_);
      broken_ = true;
      drained = take_all_locked();
    }
    while (drained != nullptr) {
      FutureStateBase* next = drained->next_;
      if (drained->try_claim())
        drained->finish_with(std::make_exception_ptr(BrokenExecutor(kBrokenMessage)));
      drained->release();
      drained = next;
    }
    wake_everyone();
  }

  const std::size_t max_workers_;
  const std::string prefix_;
  const std::function<void()> init_;

  // What every submit and pop touches shares one cache line: a task hand-off moves one
  // line between the submitting thread and a worker, not three.
  alignas(64) Lock lock_;                   // guards the queue, threads_, helping_
  std::atomic<bool> broken_{false};
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> full_{false};           // every worker started: no idle tokens
  std::atomic<std::uint32_t> sleepers_{0};
  FutureStateBase* head_ = nullptr;
  FutureStateBase* tail_ = nullptr;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> max_pending_{0};
  std::atomic<std::uint32_t> helpers_{0};
  std::atomic<std::uint32_t> spinning_{0};  // (E5) 0 or 1
  std::atomic<std::uint32_t> space_waiters_{0};
  std::atomic<std::uint32_t> idle_{0};

  alignas(64) std::atomic<std::uint32_t> epoch_{0};  // parking key of idle workers
  std::atomic<std::uint32_t> space_epoch_{0};
  std::atomic<std::uint64_t> next_task_id_{0};
  std::vector<std::unique_ptr<Thread>> threads_;
  std::vector<FutureStateBase*> helping_;
  Lock join_lock_;
};

ThreadPoolCore* make_thread_pool(std::size_t max_workers, std::string prefix,
                                 std::function<void()> initializer) {
  return new ThreadPoolCore(max_workers, std::move(prefix), std::move(initializer));
}
void destroy_thread_pool(ThreadPoolCore* core) noexcept { delete core; }
ExecutorCore* as_executor(ThreadPoolCore* core) noexcept { return core; }
bool pool_submit(ThreadPoolCore* core, FutureStateBase* task, Deadline deadline) {
  return core->submit(task, deadline);
}
void pool_shutdown(ThreadPoolCore* core, bool wait, bool cancel_futures) {
  core->shutdown(wait, cancel_futures);
}
void pool_set_max_pending(ThreadPoolCore* core, std::size_t n) noexcept {
  core->set_max_pending(n);
}

}  // namespace weft::detail
