// SPDX-License-Identifier: Apache-2.0
// ThreadPoolCore, (TP3) of thread_pool_core.hpp: a worker that blocks on its own pool
// (result() of one of its tasks, submit() at the pending bound) never starves it. While
// every live thread is blocked and work is left, a spare thread is started; past the
// spare bound a blocked worker runs the very task it awaits; threads beyond max_workers
// retire once the blocked ones run again.
#include <algorithm>
#include <mutex>

#include "thread_pool_core.hpp"
#include "weft/cancel.hpp"

namespace weft::detail {

unsigned& ThreadPoolCore::inline_depth() noexcept {
  thread_local unsigned depth = 0;
  return depth;
}

bool ThreadPoolCore::wait_as_worker(FutureStateBase* s, Deadline deadline, SourceLoc loc) {
  for (;;) {
    {
      BlockedWorker blocked(*this, s);
      if (!blocked.run_here()) {
        if (s->block_until(deadline, loc, [&] { return !blocked.asked(); })) return true;
        if (!blocked.asked()) return false;  // the deadline
      }
    }
    // Past the bound: run the awaited task here, not counted as blocked meanwhile (so a
    // thread is in blocked_ at most once).
    if (s->phase() == FutureStateBase::kPending) {
      ++inline_depth();
      s->run();
      --inline_depth();
    }
    if (s->done()) return true;  // else another thread runs it: wait again
  }
}

// Registers w in blocked_; starts a spare if every thread is now blocked while there is
// work. Past the bound, picks a blocked worker whose awaited task has not started to run
// it: w itself (returns true) or another one, asked and woken.
bool ThreadPoolCore::begin_blocking(BlockedWorker* w) {
  std::vector<std::unique_ptr<Thread>> retired;
  const void* wake_key = nullptr;
  bool run_here = false;
  {
    std::scoped_lock hold(lock_);
    retired.reserve(retired_.size());  // the one step that can throw (bad_alloc)
    blocked_.push_back(w);
    update_excess_locked();
    if (live_ == blocked_.size() && has_work() && !any_blocked_worker_waking_locked()) {
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

void ThreadPoolCore::end_blocking(BlockedWorker* w) noexcept {
  std::scoped_lock hold(lock_);
  blocked_.erase(std::find(blocked_.begin(), blocked_.end(), w));
  update_excess_locked();
}

// Under lock_: a blocked worker whose future is done is about to run again.
bool ThreadPoolCore::any_blocked_worker_waking_locked() const noexcept {
  return std::any_of(blocked_.begin(), blocked_.end(), [](const BlockedWorker* b) {
    return b->awaited_ != nullptr && b->awaited_->done();
  });
}

// Under lock_: a blocked worker that can run its awaited, not started task (self
// first), or null.
ThreadPoolCore::BlockedWorker* ThreadPoolCore::pick_runner_locked(
    BlockedWorker* self) const noexcept {
  auto can_run = [](const BlockedWorker* b) {
    return b->may_run_awaited_ && !b->asked() &&
           b->awaited_->phase() == FutureStateBase::kPending;
  };
  if (can_run(self)) return self;
  auto it = std::find_if(blocked_.begin(), blocked_.end(), can_run);
  return it != blocked_.end() ? *it : nullptr;
}

// Under lock_.
void ThreadPoolCore::update_excess_locked() noexcept {
  excess_.store(live_ > max_workers_ + blocked_.size(), std::memory_order_relaxed);
}

// Before a worker takes a task: true if it leaves because more than max_workers_
// threads are unblocked.
bool ThreadPoolCore::retire_if_excess() noexcept {
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

// Under lock_: moves the Threads of retired workers to `out` (with room for them), to be
// joined without lock_.
void ThreadPoolCore::take_retired_locked(std::vector<std::unique_ptr<Thread>>& out) noexcept {
  for (Thread* r : retired_) {
    auto it = std::find_if(threads_.begin(), threads_.end(),
                           [r](const std::unique_ptr<Thread>& t) { return t.get() == r; });
    if (it == threads_.end()) continue;  // shutdown joins it
    out.push_back(std::move(*it));
    threads_.erase(it);
  }
  retired_.clear();
}

}  // namespace weft::detail
