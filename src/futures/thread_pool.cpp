// SPDX-License-Identifier: Apache-2.0
// ThreadPoolExecutor's core: an intrusive FIFO of task states under one Lock, lazily
// started workers, idle workers parked on epoch_, and spare threads for workers that
// block on their own pool.
//
// Sleep / wake protocol (no lost wake-up, no wake-up when nobody sleeps):
//   (TP1) a worker about to sleep increments sleepers_ (seq_cst), reads epoch_, re-reads
//        queued_ and parks on &epoch_ validating that epoch_ is unchanged.
//   (TP2) submit() increments queued_ (seq_cst, under lock_) and then reads sleepers_;
//        if any, it bumps epoch_ and unparks. By (TP1)/(TP2) either the worker sees the
//        new item or submit sees the sleeper (store-load on seq_cst atomics).
//   (TP3) compensation: a worker that blocks on its own pool (result() of one of the
//        pool's unfinished tasks, or submit() at the pending bound) counts itself in
//        blocked_ under lock_ and runs nothing inline. If then every live thread is
//        blocked (live_ == blocked_.size()) while tasks are queued, and none of them
//        waits for a future that is already done (it is about to run again), it starts
//        a spare thread first, so some thread always takes queued tasks. At most max_workers_ +
//        kMaxSpareThreads threads live; a thread that finishes a task while more
//        threads than max_workers_ are unblocked retires (excess_), so the pool runs
//        at most max_workers_ tasks at once, plus one per blocked worker whose place a
//        spare took, for as long as that worker stays blocked.
//        Beyond the bound (or when no thread can be started), the last worker to
//        block picks one blocked in result() whose awaited task has not started --
//        itself first, else it sets that worker's asked_ and unparks it -- and that
//        worker runs the task it awaits (nothing else), at most kMaxInlineDepth such
//        runs nested on one thread. With no such worker, every thread just blocks.
//   (TP4) backpressure: submitters blocked on a full queue park on &space_epoch_; every
//        pop that sees space_waiters_ bumps it and unparks one.
//   (TP5) spinning_ is a token (0 or 1, taken by CAS 0 -> 1) held by the one idle worker
//        that spins before it sleeps, or by a wake-up in flight: the waker takes it and
//        hands it to the worker it unparks (park token kSpinToken), so a burst of submits
//        wakes one sleeper, not one per submit. While it is held, submit() does not wake
//        anyone: every holder releases it with fetch_sub (seq_cst) and then re-reads
//        queued_ (seq_cst), which follows submit's increment in the seq_cst order
//        (submit read the token held before that fetch_sub), and pops or wakes again.
//   (TP6) chain wake: a worker that pops a task while more are queued wakes one sleeper
//        (through E5), so a burst reaches every worker one by one.
#include <algorithm>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "weft/detail/backoff.hpp"
#include "weft/detail/intrusive_list.hpp"
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
      fifo_push_back<&FutureStateBase::next_>(head_, tail_, *t);
      queued_.fetch_add(1, std::memory_order_seq_cst);  // (TP2)
    }
    wake_one_sleeper();  // (TP2) (TP5)
    return true;
  }

  void shutdown(bool wait, bool cancel_futures) {
    FutureStateBase* drained = nullptr;
    {
      std::scoped_lock hold(lock_);
      shutdown_.store(true, std::memory_order_seq_cst);
      if (cancel_futures) drained = take_all_locked();
    }
    // Tasks that were queued: each is cancelled here unless a waiter already ran it (TP3).
    while (drained != nullptr) {
      FutureStateBase* next = drained->next_;
      drained->cancel();
      drained->release();
      drained = next;
    }
    wake_everyone();
    if (!wait) return;
    // Joining cannot be interrupted: ~ThreadPoolExecutor runs this, and a Thread left
    // unjoined would be destroyed running.
    NoInterruptScope uninterrupted;
    std::scoped_lock joining(join_lock_);
    // Spares may still start while queued tasks run (TP3): join until none is left.
    Thread* self = &current_thread();
    for (;;) {
      std::unique_ptr<Thread> th;
      {
        std::scoped_lock hold(lock_);
        for (auto it = threads_.begin(); it != threads_.end(); ++it) {
          if (it->get() != self) {
            std::erase(retired_, it->get());
            th = std::move(*it);
            threads_.erase(it);
            break;
          }
        }
      }
      if (th == nullptr) return;
      th->join();  // finished ones return at once
    }
  }

  bool wait_as_worker(FutureStateBase* s, Deadline deadline, SourceLoc loc) override {
    for (;;) {
      {
        BlockedWorker blocked(*this, s);
        if (!blocked.run_here()) {
          if (s->block_until(deadline, loc, [&] { return !blocked.asked(); })) return true;
          if (!blocked.asked()) return false;  // the deadline
        }
      }
      // (TP3) past the bound: run the awaited task here, not counted as blocked meanwhile
      // (so a thread is in blocked_ at most once).
      if (s->phase() == FutureStateBase::kPending) {
        ++inline_depth();
        s->run();
        --inline_depth();
      }
      if (s->done()) return true;  // else another thread runs it: wait again
    }
  }

  void set_max_pending(std::size_t n) noexcept {
    max_pending_.store(n, std::memory_order_relaxed);
    space_epoch_.fetch_add(1, std::memory_order_seq_cst);
    unpark_all(&space_epoch_);
  }

 private:
  static constexpr ParkToken kSpinToken = 1;  // (TP5) the woken worker holds spinning_
  // (TP3) threads beyond max_workers_ started for blocked workers; nested inline runs.
  static constexpr std::size_t kMaxSpareThreads = 64;
  static constexpr unsigned kMaxInlineDepth = 16;

  static unsigned& inline_depth() noexcept {
    thread_local unsigned depth = 0;
    return depth;
  }

  // (TP3) A worker blocked on its own pool, for the scope of the wait.
  class BlockedWorker {
   public:
    // awaited: the future it waits for, or null (waiting for room in the queue).
    BlockedWorker(ThreadPoolCore& pool, FutureStateBase* awaited)
        : pool_(pool),
          awaited_(awaited),
          may_run_awaited_(awaited != nullptr && inline_depth() < kMaxInlineDepth) {
      run_here_ = pool.begin_blocking(this);
    }
    ~BlockedWorker() { pool_.end_blocking(this); }
    BlockedWorker(const BlockedWorker&) = delete;
    BlockedWorker& operator=(const BlockedWorker&) = delete;
    // True when this worker should run the task it awaits (no thread can take the
    // queue and no spare can be started), now or since another worker asked it to.
    bool run_here() const noexcept { return run_here_ || asked(); }
    bool asked() const noexcept { return asked_.load(std::memory_order_seq_cst); }

   private:
    friend class ThreadPoolCore;
    ThreadPoolCore& pool_;
    FutureStateBase* const awaited_;
    const bool may_run_awaited_;
    std::atomic<bool> asked_{false};
    bool run_here_ = false;
  };

  // Registers w in blocked_; starts a spare if every thread is now blocked while tasks
  // are queued (TP3). Past the bound, picks a blocked worker whose awaited task has not
  // started to run it: w itself (returns true) or another one, asked and woken.
  bool begin_blocking(BlockedWorker* w) {
    std::vector<std::unique_ptr<Thread>> retired;
    const void* wake_key = nullptr;
    bool run_here = false;
    {
      std::scoped_lock hold(lock_);
      retired.reserve(retired_.size());  // the one step that can throw (bad_alloc)
      blocked_.push_back(w);
      update_excess_locked();
      if (live_ == blocked_.size() && queued_.load(std::memory_order_relaxed) != 0 &&
          !any_blocked_worker_waking_locked()) {
        take_retired_locked(retired);
        if (!(live_ < max_workers_ + kMaxSpareThreads && try_start_worker_locked())) {
          if (BlockedWorker* runner = pick_runner_locked(w); runner == w) {
            run_here = true;
          } else if (runner != nullptr) {
            runner->asked_.store(true, std::memory_order_seq_cst);
            wake_key = runner->awaited_->park_key();
          }
        }
      }
    }
    // Its park validates "not asked"; the key is only compared, never dereferenced.
    if (wake_key != nullptr) unpark_all(wake_key);
    NoInterruptScope uninterrupted;  // w is registered: this must not throw
    for (auto& th : retired) th->join();  // they have left worker_main
    return run_here;
  }

  void end_blocking(BlockedWorker* w) noexcept {
    std::scoped_lock hold(lock_);
    blocked_.erase(std::find(blocked_.begin(), blocked_.end(), w));
    update_excess_locked();
  }

  // Under lock_: a blocked worker whose future is done is about to run again.
  bool any_blocked_worker_waking_locked() const noexcept {
    return std::any_of(blocked_.begin(), blocked_.end(), [](const BlockedWorker* b) {
      return b->awaited_ != nullptr && b->awaited_->done();
    });
  }

  // Under lock_: a blocked worker that can run its awaited, not started task (self
  // first), or null.
  BlockedWorker* pick_runner_locked(BlockedWorker* self) const noexcept {
    auto can_run = [](const BlockedWorker* b) {
      return b->may_run_awaited_ && !b->asked() &&
             b->awaited_->phase() == FutureStateBase::kPending;
    };
    if (can_run(self)) return self;
    auto it = std::find_if(blocked_.begin(), blocked_.end(), can_run);
    return it != blocked_.end() ? *it : nullptr;
  }

  // Under lock_.
  void update_excess_locked() noexcept {
    excess_.store(live_ > max_workers_ + blocked_.size(), std::memory_order_relaxed);
  }

  // (TP3) Before a worker takes a task: true if it leaves because more than
  // max_workers_ threads are unblocked.
  bool retire_if_excess() noexcept {
    std::scoped_lock hold(lock_);
    if (live_ <= max_workers_ + blocked_.size()) return false;
    try {
      retired_.push_back(&current_thread());
    } catch (...) {
      return false;  // no memory to be joined later: stay
    }
    --live_;
    update_excess_locked();
    return true;
  }

  // Under lock_: moves the Threads of retired workers to `out` (with room for them),
  // to be joined without lock_.
  void take_retired_locked(std::vector<std::unique_ptr<Thread>>& out) noexcept {
    for (Thread* r : retired_) {
      auto it = std::find_if(threads_.begin(), threads_.end(),
                             [r](const std::unique_ptr<Thread>& t) { return t.get() == r; });
      if (it == threads_.end()) continue;  // shutdown joins it
      out.push_back(std::move(*it));
      threads_.erase(it);
    }
    retired_.clear();
  }
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

  // One queued task, or null. Wakes a blocked submitter when there is room (TP4).
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

  bool wait_for_space(Deadline deadline) {
    // (TP3) a worker of this pool blocked on its own queue lends its place to a spare.
    std::optional<BlockedWorker> blocked;
    for (;;) {
      const std::size_t limit = max_pending_.load(std::memory_order_relaxed);
      if (limit == 0 || queued_.load(std::memory_order_seq_cst) < limit) return true;
      if (shutdown_.load(std::memory_order_seq_cst) || broken_) return true;  // submit throws
      if (Clock::now() >= deadline) return false;
      if (!blocked && current_executor() == this) blocked.emplace(*this, nullptr);
      space_waiters_.fetch_add(1, std::memory_order_seq_cst);  // (TP4)
      const std::uint32_t e = space_epoch_.load(std::memory_order_seq_cst);
      if (queued_.load(std::memory_order_seq_cst) >= limit &&
          !shutdown_.load(std::memory_order_seq_cst)) {
        const ParkResult r = park(
            &space_epoch_,
            [&] { return space_epoch_.load(std::memory_order_relaxed) == e; }, deadline,
            WaitSite{this, ObjKind::executor, SourceLoc{}});
        if (r.status == ParkStatus::kInterrupted) {  // (#13) nothing submitted
          space_waiters_.fetch_sub(1, std::memory_order_seq_cst);
          throw_interruption();
        }
      }
      space_waiters_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  // (TP5) Wakes one sleeping worker unless the spinning token is held; the woken worker
  // receives the token. If nobody was parked yet (a sleeper between (TP1)'s increment
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

  void wake_everyone() {
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    unpark_all(&epoch_);
    space_epoch_.fetch_add(1, std::memory_order_seq_cst);
    unpark_all(&space_epoch_);
  }

  // Workers are daemon weft::Threads: an executor that is never destroyed does not
  // keep the program from exiting (Python joins them at exit instead).
  void start_worker_locked() {
    const std::size_t index = next_index_++;
    auto th = std::make_unique<Thread>(ThreadOptions{prefix_ + "_" + std::to_string(index), true},
                                       [this] { worker_main(); });
    threads_.reserve(threads_.size() + 1);  // nothing can fail once the thread runs
    th->start();  // returns once the thread runs; it takes lock_ only inside run()
    threads_.push_back(std::move(th));
    ++live_;
    update_excess_locked();
    if (threads_.size() >= max_workers_) full_.store(true, std::memory_order_relaxed);
  }

  // Under lock_: false if no thread could be started.
  bool try_start_worker_locked() noexcept {
    try {
      start_worker_locked();
      return true;
    } catch (...) {
      return false;
    }
  }

  // Next task for a worker, sleeping while the queue is empty; null: time to exit (the
  // thread no longer counts in live_).
  // `announced`: this worker already gave an idle token (see worker_main).
  FutureStateBase* next_task(bool& announced) {
    for (;;) {
      // (TP3) more unblocked threads than max_workers_: this one leaves first. It may
      // have been woken for queued work (TP5): it hands that on.
      if (excess_.load(std::memory_order_relaxed) && retire_if_excess()) {
        if (queued_.load(std::memory_order_seq_cst) != 0) wake_one_sleeper();
        return nullptr;
      }
      if (FutureStateBase* t = pop()) {
        announced = false;
        // (TP6) more work than this worker: hand it to a sleeper.
        if (queued_.load(std::memory_order_seq_cst) != 0) wake_one_sleeper();
        return t;
      }
      if (shutdown_.load(std::memory_order_seq_cst) || broken_) {
        leave();
        return nullptr;
      }
      if (!announced) {
        give_idle_token();
        announced = true;
      }
      // (TP5) one spinner at a time: more would only take the cores the others need.
      std::uint32_t none = 0;
      if (spinning_.load(std::memory_order_relaxed) == 0 &&
          spinning_.compare_exchange_strong(none, 1, std::memory_order_seq_cst)) {
        Backoff backoff;
        while (queued_.load(std::memory_order_relaxed) == 0 && backoff.spin()) {
        }
        spinning_.fetch_sub(1, std::memory_order_seq_cst);  // (TP5)
        if (queued_.load(std::memory_order_seq_cst) != 0) continue;
      }
      sleepers_.fetch_add(1, std::memory_order_seq_cst);  // (TP1)
      const std::uint32_t e = epoch_.load(std::memory_order_seq_cst);
      bool token = false;
      if (queued_.load(std::memory_order_seq_cst) == 0 &&
          !shutdown_.load(std::memory_order_seq_cst) && !broken_) {
        // Not interruptible: an idle worker runs no task that a stop could be meant for.
        const ParkResult r = park(
            &epoch_, [&] { return epoch_.load(std::memory_order_relaxed) == e; }, kForever,
            WaitSite{this, ObjKind::executor, SourceLoc{}, true}, Interruptible::kNo);
        token = r.status == ParkStatus::kUnparked && r.token == kSpinToken;
      }
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      // (TP5) the waker's token: give it back; the pop at the top re-reads the queue.
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
        leave();
        return;
      }
    }
    run_tasks();
  }

  void leave() noexcept {
    std::scoped_lock hold(lock_);
    --live_;
    update_excess_locked();
  }

  void run_tasks() {
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
  alignas(64) InternalLock lock_;                   // guards the queue and the threads
  std::atomic<bool> broken_{false};
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> full_{false};           // every worker started: no idle tokens
  std::atomic<std::uint32_t> sleepers_{0};
  FutureStateBase* head_ = nullptr;
  FutureStateBase* tail_ = nullptr;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> max_pending_{0};
  std::atomic<bool> excess_{false};          // (TP3) live_ > max_workers_ + blocked_
  std::atomic<std::uint32_t> spinning_{0};  // (TP5) 0 or 1
  std::atomic<std::uint32_t> space_waiters_{0};
  std::atomic<std::uint32_t> idle_{0};

  alignas(64) std::atomic<std::uint32_t> epoch_{0};  // parking key of idle workers
  std::atomic<std::uint32_t> space_epoch_{0};
  std::atomic<std::uint64_t> next_task_id_{0};
  // Under lock_ (TP3): threads running worker_main, of which blocked_ are blocked on
  // this pool; retired ones (out of worker_main, not joined yet); name counter.
  std::vector<std::unique_ptr<Thread>> threads_;
  std::size_t live_ = 0;
  std::vector<BlockedWorker*> blocked_;
  std::vector<Thread*> retired_;
  std::size_t next_index_ = 0;
  InternalLock join_lock_;
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
