// SPDX-License-Identifier: Apache-2.0
// ThreadPoolCore (thread_pool_core.hpp): submit, shutdown, the shared queue and the
// workers' batches (TP7), the workers' loop, and the sleep / wake-up protocol (TP1, TP2,
// TP4, TP5, TP6). Guarantees: every submitted task runs once or its future is cancelled
// (or fails with BrokenExecutor); shutdown(cancel_futures) cancels every task no worker
// has started, batched ones included; idle workers are reused before new ones start.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "thread_pool_core.hpp"
#include "weft/detail/backoff.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/errors.hpp"
#include "weft/futures.hpp"

namespace weft::detail {

ThreadPoolCore::ThreadPoolCore(std::size_t max_workers, std::string prefix,
                               std::function<void()> init)
    : max_workers_(max_workers != 0 ? max_workers : default_workers()),
      prefix_(prefix.empty() ? default_prefix() : std::move(prefix)),
      init_(std::move(init)),
      batch_count_(std::min(max_workers_, kMaxBatches)),
      batches_(std::make_unique<TaskBatch[]>(batch_count_)) {
  free_batches_.reserve(batch_count_);
  for (std::size_t i = batch_count_; i-- > 0;) free_batches_.push_back(&batches_[i]);
  // Named by its thread-name prefix in debug statistics and traces.
  hooks::object_named(static_cast<ExecutorCore*>(this), ObjKind::executor, prefix_);
}

ThreadPoolCore::~ThreadPoolCore() {
  shutdown(true, false);
  hooks::object_destroyed(static_cast<ExecutorCore*>(this));
}

bool ThreadPoolCore::submit(FutureStateBase* t, Deadline deadline) {
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
    // Once every worker is started, idle tokens no longer matter (see run_tasks).
    if (threads_.size() < max_workers_ && !take_idle_token()) {
      // Before queueing: if no thread can be started at all, submit fails cleanly.
      try {
        start_worker_locked();
      } catch (...) {
        if (threads_.empty()) throw;  // otherwise the existing workers run it
      }
    }
    queue_.push(t);  // (Q1) std::bad_alloc: nothing queued
    queued_.fetch_add(1, std::memory_order_seq_cst);  // (TP2)
  }
  wake_one_sleeper();  // (TP2) (TP5)
  return true;
}

void ThreadPoolCore::shutdown(bool wait, bool cancel_futures) {
  FutureStateBase* drained = nullptr;
  {
    std::scoped_lock hold(lock_);
    shutdown_.store(true, std::memory_order_seq_cst);
    if (cancel_futures) drained = take_all_locked();
  }
  // Tasks that were queued or batched: each is cancelled here unless a waiter already
  // ran it (TP3).
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

void ThreadPoolCore::set_max_pending(std::size_t n) noexcept {
  max_pending_.store(n, std::memory_order_relaxed);
  space_epoch_.fetch_add(1, std::memory_order_seq_cst);
  unpark_all(&space_epoch_);
}

std::size_t ThreadPoolCore::default_workers() {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(32, cores + 4);
}

std::string ThreadPoolCore::default_prefix() {
  static std::atomic<unsigned> counter{0};
  return "ThreadPoolExecutor-" + std::to_string(counter.fetch_add(1));
}

// ---- the queue and the batches ----

// The count first: it publishes the batches' slots (B2).
bool ThreadPoolCore::has_work() const noexcept {
  if (queued_.load(std::memory_order_seq_cst) != 0) return true;
  for (std::size_t i = 0; i < batch_count_; ++i)
    if (batches_[i].any()) return true;
  return false;
}

FutureStateBase* ThreadPoolCore::take_all_locked() noexcept {
  FutureStateBase* h = queue_.take_all();
  queued_.store(0, std::memory_order_seq_cst);
  for (std::size_t i = 0; i < batch_count_; ++i) batches_[i].drain_into(h);  // (TP7)
  return h;
}

FutureStateBase* ThreadPoolCore::pop(TaskBatch* batch, std::uint32_t& filled) {
  TaskFifo::Entry taken[1 + TaskBatch::kCapacity];
  filled = 0;
  {
    std::scoped_lock hold(lock_);
    const std::size_t queued = queued_.load(std::memory_order_relaxed);
    if (queued == 0) return nullptr;
    // (TP7) at least two tasks per live thread, and no pending bound to keep exact.
    const std::size_t live = std::max<std::size_t>(live_, 1);
    if (batch != nullptr && queued >= 2 * live && max_pending_.load(std::memory_order_relaxed) == 0)
      filled = static_cast<std::uint32_t>(std::min<std::size_t>(TaskBatch::kCapacity, queued / live - 1));
    queue_.pop_many(taken, 1 + filled);
    if (filled != 0) batch->fill(filled, [&](std::uint32_t i) { return taken[1 + i].task(); });
    // (B2) publishes the batch's slots.
    queued_.fetch_sub(1 + filled, std::memory_order_seq_cst);
  }
  // (Q3) This worker runs these states next: their lines come over while it runs the
  // first one. (A batched task stolen and freed meanwhile only makes a prefetch useless.)
  // Not for a single task: the queue is short then, the task runs at once, and its last
  // line may hold the head of the state its submitter is writing now.
  if (filled != 0) TaskFifo::prefetch(taken, 1 + filled);
  if (space_waiters_.load(std::memory_order_seq_cst) != 0) {
    space_epoch_.fetch_add(1, std::memory_order_seq_cst);
    unpark_one(&space_epoch_);
  }
  return taken[0].task();
}

FutureStateBase* ThreadPoolCore::steal() noexcept {
  for (std::size_t i = 0; i < batch_count_; ++i)
    if (FutureStateBase* t = batches_[i].steal()) return t;
  return nullptr;
}

FutureStateBase* ThreadPoolCore::steal_from_stalled(WorkerLocal& me) noexcept {
  TaskBatch& watched = batches_[me.watched];
  if (watched.progress() == me.watched_progress) {
    if (FutureStateBase* t = watched.steal()) return t;  // watch it again next visit
  }
  me.watched = (me.watched + 1) % batch_count_;
  me.watched_progress = batches_[me.watched].progress();
  return nullptr;
}

bool ThreadPoolCore::take_idle_token() noexcept {
  std::uint32_t idle = idle_.load(std::memory_order_relaxed);
  while (idle != 0) {
    if (idle_.compare_exchange_weak(idle, idle - 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

void ThreadPoolCore::give_idle_token() noexcept {
  if (!full_.load(std::memory_order_relaxed)) idle_.fetch_add(1, std::memory_order_relaxed);
}

bool ThreadPoolCore::wait_for_space(Deadline deadline) {
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
          &space_epoch_, [&] { return space_epoch_.load(std::memory_order_relaxed) == e; },
          deadline, WaitSite{this, ObjKind::executor, SourceLoc{}});
      if (r.status == ParkStatus::kInterrupted) {  // (#13) nothing submitted
        space_waiters_.fetch_sub(1, std::memory_order_seq_cst);
        throw_interruption();
      }
    }
    space_waiters_.fetch_sub(1, std::memory_order_seq_cst);
  }
}

// (TP5) Wakes one sleeping worker unless the spinning token is held; the woken worker
// receives the token. If nobody was parked yet (a sleeper between (TP1)'s increment and
// its park), gives the token back and retries while work and sleepers remain.
void ThreadPoolCore::wake_one_sleeper_slow() {
  Backoff backoff;
  for (;;) {
    if (sleepers_.load(std::memory_order_seq_cst) == 0) return;
    std::uint32_t none = 0;
    if (spinning_.load(std::memory_order_seq_cst) != 0 ||
        !spinning_.compare_exchange_strong(none, 1, std::memory_order_seq_cst))
      return;  // its holder re-reads has_work() after giving it back
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    bool handed = false;
    unpark_one(&epoch_, [&](UnparkResult r) -> ParkToken {
      handed = r.unparked != 0;
      return kSpinToken;
    });
    if (handed) return;
    spinning_.fetch_sub(1, std::memory_order_seq_cst);
    if (!has_work()) return;
    if (!backoff.spin()) std::this_thread::yield();
  }
}

void ThreadPoolCore::wake_everyone() {
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  unpark_all(&epoch_);
  space_epoch_.fetch_add(1, std::memory_order_seq_cst);
  unpark_all(&space_epoch_);
}

// ---- the workers ----

// Workers are daemon weft::Threads: an executor that is never destroyed does not keep
// the program from exiting (Python joins them at exit instead).
void ThreadPoolCore::start_worker_locked() {
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

bool ThreadPoolCore::try_start_worker_locked() noexcept {
  try {
    start_worker_locked();
    return true;
  } catch (...) {
    return false;
  }
}

// Next task for a worker: from its batch, the queue, another worker's batch, sleeping
// while there is none; null: time to exit (the thread no longer counts in live_).
FutureStateBase* ThreadPoolCore::next_task(WorkerLocal& me) {
  if (me.batch != nullptr) {
    if (FutureStateBase* t = me.batch->take_next()) return t;
  }
  for (;;) {
    // (TP3) more unblocked threads than max_workers_: this one leaves first. It may
    // have been woken for work (TP5): it hands that on.
    if (excess_.load(std::memory_order_relaxed) && retire_if_excess()) {
      if (has_work()) wake_one_sleeper();
      return nullptr;
    }
    std::uint32_t filled = 0;
    FutureStateBase* t = steal_from_stalled(me);  // (TP7)
    if (t == nullptr) t = pop(me.batch, filled);
    if (t != nullptr) {
      me.announced = false;
      // (TP6) more work than this worker: hand it to a sleeper.
      if (filled != 0 || queued_.load(std::memory_order_seq_cst) != 0) wake_one_sleeper();
      return t;
    }
    if (FutureStateBase* stolen = steal()) {  // (TP7)
      me.announced = false;
      return stolen;
    }
    if (shutdown_.load(std::memory_order_seq_cst) || broken_) {
      leave();
      return nullptr;
    }
    if (!me.announced) {
      give_idle_token();
      me.announced = true;
    }
    // (TP5) one spinner at a time: more would only take the cores the others need.
    std::uint32_t none = 0;
    if (spinning_.load(std::memory_order_relaxed) == 0 &&
        spinning_.compare_exchange_strong(none, 1, std::memory_order_seq_cst)) {
      Backoff backoff;
      while (queued_.load(std::memory_order_relaxed) == 0 && backoff.spin()) {
      }
      spinning_.fetch_sub(1, std::memory_order_seq_cst);  // (TP5)
      if (has_work()) continue;
    }
    sleepers_.fetch_add(1, std::memory_order_seq_cst);  // (TP1)
    const std::uint32_t e = epoch_.load(std::memory_order_seq_cst);
    bool token = false;
    if (!has_work() && !shutdown_.load(std::memory_order_seq_cst) && !broken_) {
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

void ThreadPoolCore::worker_main() {
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
  // (TP7) a batch of its own while there is one free; it is empty again when the loop
  // ends (next_task returns null only once the batch is used up).
  WorkerLocal me;
  {
    std::scoped_lock hold(lock_);
    if (!free_batches_.empty()) {
      me.batch = free_batches_.back();
      free_batches_.pop_back();
    }
  }
  run_tasks(me);
  if (me.batch != nullptr) {
    std::scoped_lock hold(lock_);
    free_batches_.push_back(me.batch);  // within the capacity reserved
  }
}

void ThreadPoolCore::leave() noexcept {
  std::scoped_lock hold(lock_);
  --live_;
  update_excess_locked();
}

void ThreadPoolCore::run_tasks(WorkerLocal& me) {
  // Idle tokens (Python's idle semaphore): a worker that finds no task of its batch left
  // and the queue empty when a task ends gives one *before* completing the future, so a
  // caller that waited for that result and submits again reuses this worker instead of
  // starting another. Once every worker has started (full_), there is nothing to give.
  while (FutureStateBase* t = next_task(me)) {
    if (t->execute()) {
      if (!me.all_started) me.all_started = full_.load(std::memory_order_relaxed);
      if (!me.all_started && (me.batch == nullptr || !me.batch->owner_has_more()) &&
          queued_.load(std::memory_order_relaxed) == 0) {
        give_idle_token();
        me.announced = true;
      }
      t->finish_and_release();
    } else {
      t->release();
    }
  }
}

// An initializer failed: every queued or batched task and every later submit fail.
void ThreadPoolCore::break_pool() {
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
