// SPDX-License-Identifier: Apache-2.0
// Future shared state slow paths: waiting, notification, callbacks, wait(), as_completed().
//
// The protocol on word_ ((F1)-(F4)) is described in weft/detail/future_state.hpp.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <typeinfo>

#include "weft/detail/parking_lot.hpp"
#include "weft/errors.hpp"
#include "weft/futures.hpp"

namespace weft::detail {

ExecutorCore*& current_executor() noexcept {
  thread_local ExecutorCore* current = nullptr;
  return current;
}

FutureStateBase::~FutureStateBase() { delete extra_; }

bool FutureStateBase::cancel() {
  std::uint64_t s = word_.load(std::memory_order_relaxed);
  for (;;) {
    const std::uint64_t phase = s & kPhaseMask;
    if (phase == kCancelled) return true;
    if (phase != kPending) return false;
    // (F1) the same race as try_claim(): exactly one of run and cancel wins.
    if (word_.compare_exchange_weak(s, (s & ~std::uint64_t{kPhaseMask}) | kCancelled,
                                    std::memory_order_acq_rel, std::memory_order_relaxed))
      break;
  }
  // Never ran: nothing of (F6) to do here.
  if ((s & (kParked | kListeners)) != 0) notify_slow(static_cast<std::uint32_t>(s) & (kParked | kListeners));
  return true;
}

bool FutureStateBase::request_stop() noexcept {
  std::uint64_t old = word_.load(std::memory_order_relaxed);
  do {
    if ((old & kDoneBit) != 0) return false;
  } while (!word_.compare_exchange_weak(old, (old | kStopRequested) + kOneStopper,
                                        std::memory_order_acq_rel, std::memory_order_relaxed));
  if ((old & kPhaseMask) == kRunning && has_runner_) {  // (F5)
    ThreadData* runner;
    while ((runner = runner_.load(std::memory_order_acquire)) == nullptr) std::this_thread::yield();
    interrupt_thread(*runner, kInterruptStop);
  }
  if (stop_source_.stop_possible()) stop_source_.request_stop();
  word_.fetch_sub(kOneStopper, std::memory_order_release);
  return true;
}

void FutureStateBase::notify_slow(std::uint32_t old) noexcept {
  if ((old & kStopRequested) != 0) {  // (F6)
    while ((word_.load(std::memory_order_acquire) & kStoppers) != 0) std::this_thread::yield();
    if (has_runner_) restore_stop_reason();
  }
  if ((old & kParked) != 0) unpark_all(&word_);  // (F3)
  if ((old & kListeners) == 0) return;
  std::vector<Callback> callbacks;
  {
    std::scoped_lock hold(lock_);  // (F4)
    if (extra_ != nullptr) {
      // Internal listeners run under the lock so that remove_listener() after it
      // returns guarantees no further call.
      for (FutureListener* l : extra_->listeners) l->on_done(this);
      extra_->listeners.clear();
      callbacks.swap(extra_->callbacks);
    }
  }
  for (const Callback& cb : callbacks) run_callback(cb, this);
}

bool FutureStateBase::block_until(Deadline deadline, SourceLoc loc, FunctionRef<bool()> stay) {
  for (;;) {
    if (done()) return true;
    if (!stay()) return false;
    if (deadline != kForever && Clock::now() >= deadline) return false;
    word_.fetch_or(kParked, std::memory_order_acq_rel);  // (F3)
    const ParkResult r = park(
        &word_,
        [&] { return (word_.load(std::memory_order_relaxed) & kDoneBit) == 0 && stay(); },
        deadline, WaitSite{this, ObjKind::future, loc});
    // Interrupted (#13): nothing to undo (a kParked left set costs one needless unpark_all).
    if (r.status == ParkStatus::kInterrupted) throw_interruption();
  }
}

bool FutureStateBase::block_until(Deadline deadline, SourceLoc loc) {
  return block_until(deadline, loc, [] { return true; });
}

bool FutureStateBase::wait_until(Deadline deadline, SourceLoc loc) {
  if (done()) return true;
  ExecutorCore* ex = owner_;
  if (ex != nullptr && current_executor() == ex) return ex->wait_as_worker(this, deadline, loc);
  return block_until(deadline, loc);
}

void FutureStateBase::check_result() const {
  if (phase() == kCancelled) throw CancelledError("future was cancelled");
  if (exc_) std::rethrow_exception(exc_);
}

void FutureStateBase::add_callback(Callback fn) {
  {
    std::unique_lock hold(lock_);
    // (F4) the flag and the phase in one RMW, under the lock.
    const std::uint64_t old = word_.fetch_or(kListeners, std::memory_order_acq_rel);
    if ((old & kDoneBit) == 0) {
      if (extra_ == nullptr) extra_ = new Listeners;
      extra_->callbacks.push_back(std::move(fn));
      return;
    }
  }
  run_callback(fn, this);
}

bool FutureStateBase::add_listener(FutureListener* l) {
  std::scoped_lock hold(lock_);
  const std::uint64_t old = word_.fetch_or(kListeners, std::memory_order_acq_rel);
  if ((old & kDoneBit) != 0) return false;
  if (extra_ == nullptr) extra_ = new Listeners;
  extra_->listeners.push_back(l);
  return true;
}

void FutureStateBase::remove_listener(FutureListener* l) {
  std::scoped_lock hold(lock_);
  if (extra_ == nullptr) return;
  auto& v = extra_->listeners;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == l) {
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

void run_callback(const FutureStateBase::Callback& cb, FutureStateBase* s) noexcept {
  try {
    cb(s);
  } catch (...) {
    // Python logs "exception calling callback for <Future>" and goes on.
    try {
      const std::string what = describe_current_exception();
      std::fprintf(stderr, "exception calling callback for future %p: %s\n",
                   static_cast<const void*>(s), what.c_str());
    } catch (...) {
      std::fputs("exception calling callback for a future\n", stderr);
    }
  }
}

// ---- wait() ----

namespace {
// Counts completions for wait(); notified under each future's lock.
class CountingListener final : public FutureListener {
 public:
  void on_done(FutureStateBase* s) noexcept override {
    if (s->phase() == FutureStateBase::kFinished && s->stored_exception()) saw_exception_ = true;
    done_.fetch_add(1, std::memory_order_release);
    // (FW1) pairs with the seq_ check in the waiter's validate.
    seq_.fetch_add(1, std::memory_order_release);
    unpark_all(&seq_);
  }
  std::atomic<std::size_t> done_{0};
  std::atomic<bool> saw_exception_{false};
  std::atomic<std::uint32_t> seq_{0};
};
}  // namespace

void wait_for_states(const std::vector<FutureStateBase*>& states, ReturnWhen when,
                     Deadline deadline, SourceLoc loc) {
  const std::size_t n = states.size();
  CountingListener l;
  std::vector<FutureStateBase*> added;
  added.reserve(n);
  std::size_t done_before = 0;
  // A state either was done when we looked (counted here) or gets on_done once later.
  for (FutureStateBase* s : states) {
    if (s->add_listener(&l)) {
      added.push_back(s);
    } else {
      ++done_before;
      if (s->phase() == FutureStateBase::kFinished && s->stored_exception())
        l.saw_exception_ = true;
    }
  }
  auto satisfied = [&] {
    const std::size_t done = done_before + l.done_.load(std::memory_order_acquire);
    switch (when) {
      case ReturnWhen::FIRST_COMPLETED:
        return done > 0 || n == 0;
      case ReturnWhen::FIRST_EXCEPTION:
        return l.saw_exception_.load(std::memory_order_acquire) || done == n;
      case ReturnWhen::ALL_COMPLETED:
        break;
    }
    return done == n;
  };
  const void* site_obj = n != 0 ? static_cast<const void*>(states.front()) : nullptr;
  bool interrupted = false;
  for (;;) {
    const std::uint32_t e = l.seq_.load(std::memory_order_acquire);
    if (satisfied()) break;
    if (deadline != kForever && Clock::now() >= deadline) break;
    const ParkResult r = park(
        &l.seq_, [&] { return l.seq_.load(std::memory_order_relaxed) == e; }, deadline,
        WaitSite{site_obj, ObjKind::future, loc});
    if (r.status == ParkStatus::kInterrupted) {
      interrupted = true;
      break;
    }
  }
  for (FutureStateBase* s : added) s->remove_listener(&l);
  if (interrupted) throw_interruption();  // (#13) after the listeners are gone
}

// ---- as_completed() ----

void CompletionQueue::on_done(FutureStateBase* s) noexcept {
  push(s);  // reserve() made room: no allocation here
}

void CompletionQueue::push(FutureStateBase* s) {
  {
    std::scoped_lock hold(lock_);
    ready_.push_back(s);
  }
  seq_.fetch_add(1, std::memory_order_release);  // (FW1) as in CountingListener
  unpark_all(&seq_);
}

FutureStateBase* CompletionQueue::pop(Deadline deadline, SourceLoc loc) {
  for (;;) {
    const std::uint32_t e = seq_.load(std::memory_order_acquire);
    {
      std::scoped_lock hold(lock_);
      if (head_ < ready_.size()) return ready_[head_++];
    }
    if (deadline != kForever && Clock::now() >= deadline) return nullptr;
    const ParkResult r = park(
        &seq_, [&] { return seq_.load(std::memory_order_relaxed) == e; }, deadline,
        WaitSite{this, ObjKind::future, loc});
    // Interrupted (#13): the queue keeps collecting; a later pop() goes on from here.
    if (r.status == ParkStatus::kInterrupted) throw_interruption();
  }
}

}  // namespace weft::detail
