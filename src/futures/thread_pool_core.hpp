// SPDX-License-Identifier: Apache-2.0
// ThreadPoolCore (L4 internals): ThreadPoolExecutor's core. A FIFO of task
// states under one Lock, per-worker batches taken from it, lazily started workers, idle
// workers parked on epoch_, and spare threads for workers that block on their own pool.
//   thread_pool.cpp           submit, shutdown, the queue and batches, the workers' loop,
//                             sleep and wake-up: (TP1) (TP2) (TP4) (TP5) (TP6) (TP7)
//   thread_pool_blocking.cpp  workers blocked on their own pool: (TP3)
//   task_batch.hpp            one worker's batch (B1)-(B5)
//   task_fifo.hpp             the shared queue's storage (Q1)-(Q4)
//
// Sleep / wake protocol (no lost wake-up, no wake-up when nobody sleeps). "Work" is a
// task in the queue (queued_ != 0) or in some worker's batch (TP7): has_work().
//   (TP1) a worker about to sleep increments sleepers_ (seq_cst), reads epoch_, re-reads
//        has_work() and parks on &epoch_ validating that epoch_ is unchanged.
//   (TP2) submit() increments queued_ (seq_cst, under lock_) and then reads sleepers_;
//        if any, it bumps epoch_ and unparks. By (TP1)/(TP2) either the worker sees the
//        new item or submit sees the sleeper (store-load on seq_cst atomics).
//   (TP3) compensation: a worker that blocks on its own pool (result() of one of the
//        pool's unfinished tasks, or submit() at the pending bound) counts itself in
//        blocked_ under lock_ and runs nothing inline. If then every live thread is
//        blocked (live_ == blocked_.size()) while there is work, and none of them
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
//        wakes one sleeper, not one per submit. While it is held, nobody else wakes
//        anyone: every holder releases it with fetch_sub (seq_cst) and then re-reads
//        has_work() (seq_cst loads), which follows the submit's increment or the
//        decrement that published a batch (B2) in the seq_cst order (their maker read the
//        token held before that fetch_sub), and takes work or wakes again.
//   (TP6) chain wake: a worker that takes a task while more work is left (in the queue
//        or in the batch it just filled) wakes one sleeper (through TP5), so a burst
//        reaches every worker one by one.
//   (TP7) batches: a worker whose batch is used up takes the queue's head task and, when
//        the queue holds at least two tasks per live thread and no pending bound is set,
//        up to TaskBatch::kCapacity more into its own TaskBatch, in the same lock_
//        section; it runs them in FIFO order. One visit to the shared queue (its cache
//        line moving between the CPUs) then serves up to 8 tasks, and the worker asks
//        for all their states' lines at once (Q3), which arrive while it runs the
//        first: the states' transfers overlap the work instead of stalling each task's
//        claim and finish. Batched tasks stay
//        pending and cancellable (B3). A worker whose batch and the queue are empty
//        steals the oldest task of another worker's batch before it spins or sleeps, so
//        a task that waits for a later task of its own batch still sees it run, on
//        another worker, as it would with one queue. And since batched tasks are older
//        than every queued one, a worker steals before it takes from the queue when the
//        batch it watches (one at a time, in turn) made no progress (B5) since its
//        previous visit: a batch behind a long or blocked task is not overtaken by the
//        whole queue. Since batches are filled under
//        lock_, shutdown(cancel_futures) and break_pool() see every batched task when
//        they take the queue under lock_, and take those too (B1).
//   Only the first min(max_workers, kMaxBatches) workers to start own a batch; the
//   others (and spares started when those are taken) take one task per visit.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "task_batch.hpp"
#include "task_fifo.hpp"
#include "weft/detail/future_state.hpp"
#include "weft/thread.hpp"

namespace weft::detail {

// What every submit and every pop writes, on one cache line of its own (checked below):
// a task hand-off moves this one line between the submitting thread and a worker.
struct alignas(64) ThreadPoolHotLine {
  InternalLock lock_;                       // guards the queue and the threads
  std::atomic<std::size_t> queued_{0};      // tasks in queue_ (written under lock_)
  TaskFifo queue_;                          // under lock_
  std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<std::uint32_t> spinning_{0};  // (TP5) 0 or 1
  std::atomic<std::uint32_t> space_waiters_{0};
  std::atomic<std::uint32_t> idle_{0};
};
static_assert(sizeof(ThreadPoolHotLine) == 64, "the pool's hot fields must share one cache line");

class alignas(64) ThreadPoolCore final : public ExecutorCore, private ThreadPoolHotLine {
 public:
  ThreadPoolCore(std::size_t max_workers, std::string prefix, std::function<void()> init);
  ~ThreadPoolCore();
  ThreadPoolCore(const ThreadPoolCore&) = delete;
  ThreadPoolCore& operator=(const ThreadPoolCore&) = delete;

  // False at the deadline (pending bound reached); RuntimeError after shutdown,
  // BrokenExecutor once an initializer failed.
  bool submit(FutureStateBase* t, Deadline deadline);
  void shutdown(bool wait, bool cancel_futures);
  bool wait_as_worker(FutureStateBase* s, Deadline deadline, SourceLoc loc) override;
  void set_max_pending(std::size_t n) noexcept;

 private:
  class BlockedWorker;
  // What one worker's loop keeps between tasks.
  struct WorkerLocal {
    TaskBatch* batch = nullptr;  // (TP7) its own batch, if it got one
    bool announced = false;      // it gave an idle token since its last task
    bool all_started = false;    // full_ was seen (it never goes back)
    std::size_t watched = 0;     // (TP7) the batch it watches for progress
    std::uint32_t watched_progress = ~0u;
  };

  static constexpr ParkToken kSpinToken = 1;  // (TP5) the woken worker holds spinning_
  // (TP3) threads beyond max_workers_ started for blocked workers; nested inline runs.
  static constexpr std::size_t kMaxSpareThreads = 64;
  static constexpr unsigned kMaxInlineDepth = 16;
  static constexpr std::size_t kMaxBatches = 64;  // (TP7)
  static constexpr const char* kBrokenMessage =
      "A thread initializer failed, the thread pool is not usable anymore";

  static std::size_t default_workers();
  static std::string default_prefix();

  // ---- the queue and the batches (thread_pool.cpp) ----
  // (TP7) Some task in the queue or in a batch (seq_cst loads).
  bool has_work() const noexcept;
  // Under lock_: detaches the whole queue and every batched task, linked through next_.
  FutureStateBase* take_all_locked() noexcept;
  // One queued task, or null; fills `batch` (if not null) when the queue is long (TP7).
  // Wakes a blocked submitter when there is room (TP4). `filled`: tasks put in batch.
  FutureStateBase* pop(TaskBatch* batch, std::uint32_t& filled);
  // The oldest task of some worker's batch, or null.
  FutureStateBase* steal() noexcept;
  // (TP7) The oldest task of the batch `me` watches if it made no progress since me's
  // previous visit, else null (and `me` watches the next batch).
  FutureStateBase* steal_from_stalled(WorkerLocal& me) noexcept;
  bool take_idle_token() noexcept;
  void give_idle_token() noexcept;
  bool wait_for_space(Deadline deadline);
  // (TP5) Nothing to do while no worker sleeps (the common case: one load, inline).
  void wake_one_sleeper() {
    if (sleepers_.load(std::memory_order_seq_cst) != 0) wake_one_sleeper_slow();
  }
  void wake_one_sleeper_slow();
  void wake_everyone();

  // ---- the workers (thread_pool.cpp) ----
  void start_worker_locked();
  bool try_start_worker_locked() noexcept;
  FutureStateBase* next_task(WorkerLocal& me);
  void worker_main();
  void run_tasks(WorkerLocal& me);
  void leave() noexcept;
  void break_pool();

  // ---- workers blocked on their own pool, (TP3) (thread_pool_blocking.cpp) ----
  static unsigned& inline_depth() noexcept;
  bool begin_blocking(BlockedWorker* w);
  void end_blocking(BlockedWorker* w) noexcept;
  bool any_blocked_worker_waking_locked() const noexcept;
  BlockedWorker* pick_runner_locked(BlockedWorker* self) const noexcept;
  void update_excess_locked() noexcept;
  bool retire_if_excess() noexcept;
  void take_retired_locked(std::vector<std::unique_ptr<Thread>>& out) noexcept;

  const std::size_t max_workers_;
  const std::string prefix_;
  const std::function<void()> init_;

  // Read on every submit or pop, written rarely: a line of their own that both sides
  // keep a copy of.
  alignas(64) std::atomic<bool> broken_{false};
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> full_{false};           // every worker started: no idle tokens
  std::atomic<bool> excess_{false};          // (TP3) live_ > max_workers_ + blocked_
  std::atomic<std::size_t> max_pending_{0};

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
  // (TP7) batch_count_ batches, fixed for the pool's life (any thread may scan them);
  // free_batches_ (under lock_, capacity batch_count_) are owned by no live worker.
  const std::size_t batch_count_;
  const std::unique_ptr<TaskBatch[]> batches_;
  std::vector<TaskBatch*> free_batches_;
};

// (TP3) A worker blocked on its own pool, for the scope of the wait.
class ThreadPoolCore::BlockedWorker {
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

}  // namespace weft::detail
