// SPDX-License-Identifier: Apache-2.0
// src/process/process_pool.cpp: ProcessPoolExecutor's core, the submitting side: queueing
// tasks, handing them to idle workers, starting workers, shutdown, and the pool's
// behaviour in a forked child. The dispatcher thread: dispatcher.cpp.
#include "process/process_pool_core.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>

#include "process/code_ref.hpp"
#include "process/fork_server.hpp"
#include "process/framing.hpp"
#include "process/worker.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/thread_registry.hpp"
#include "weft/errors.hpp"

namespace weft::detail {

ProcessPoolCore::ProcessPoolCore(std::size_t max_workers, ProcessPoolOptions options)
    : max_workers_(max_workers != 0 ? max_workers
                                    : std::max(1u, std::thread::hardware_concurrency())),
      options_(options) {
  if (options_.initializer != nullptr)
    init_ref_ = code_ref(reinterpret_cast<std::uintptr_t>(options_.initializer));
  hello_ = hello_frame();
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw RuntimeError(std::string("eventfd: ") + std::strerror(errno));
}

ProcessPoolCore::~ProcessPoolCore() {
  NoInterruptScope uninterrupted;  // a destructor waits for the workers and cannot throw
  shutdown(true, false);
  ::close(wake_fd_);
}

void ProcessPoolCore::destroy_by_owner() noexcept {
  if (inherited()) {
    keep_inherited();
    return;
  }
  if (dispatching_ == this) {
    shutdown(false, false);
    free_when_done_ = true;
    return;
  }
  delete this;
}

void ProcessPoolCore::submit(FutureStateBase* s, std::uintptr_t invoker, std::uintptr_t fn, std::string args,
            ResultDeliverer deliver) {
  if (inherited())
    throw BrokenProcessPool(
        "this ProcessPoolExecutor belongs to the process that forked this one; a forked "
        "child cannot use it (create a new pool in the child)");
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed) + 1;
  Pending p{id, s, task_frame(id, code_ref(invoker), code_ref(fn), args), deliver, false};
  args = std::string();
  bool spawn = false;
  bool need_wake = true;
  std::optional<Pending> first;
  std::vector<Pending> dropped;  // cancelled while queued
  {
    std::scoped_lock hold(mu_);
    if (shutdown_) throw RuntimeError("cannot schedule new futures after shutdown");
    if (!broken_.empty()) throw BrokenProcessPool(broken_);
    start_dispatcher_locked();
    if (pending_.empty() && !idle_.empty()) {
      // Fast path: an idle worker takes the task at once (a fresh state: nobody else
      // can have claimed or cancelled it yet).
      Worker* w = idle_.back();
      idle_.pop_back();
      p.claimed = s->try_claim();
      start_task_locked(*w, std::move(p));
      need_wake = w->sending || w->retiring;  // the dispatcher finishes or re-queues it
    } else {
      pending_.push_back(std::move(p));
      // More queued tasks than idle workers (a worker being started carries its own
      // task): one more worker, if allowed. It takes the oldest queued task.
      spawn = pending_.size() > idle_.size() && live_locked() < max_workers_;
      if (spawn) {
        first = take_queued_locked(dropped);
        ++starting_;
      }
    }
  }
  for (Pending& d : dropped) d.s->release();
  if (spawn) spawn_for_submit(id, std::move(first));
  if (need_wake) wake();
}

std::optional<ProcessPoolCore::Pending> ProcessPoolCore::take_queued_locked(
    std::vector<Pending>& dropped) {
  while (!pending_.empty()) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    if (!p.claimed && !p.s->try_claim()) {  // cancelled while queued
      dropped.push_back(std::move(p));
      continue;
    }
    p.claimed = true;
    return p;
  }
  return std::nullopt;
}

void ProcessPoolCore::shutdown(bool wait, bool cancel_futures) {
  if (inherited()) return;  // the parent's workers and futures are not this process's
  std::deque<Pending> cancelled;
  {
    std::scoped_lock hold(mu_);
    shutdown_ = true;
    if (cancel_futures) cancelled.swap(pending_);
    // Nothing left to run: the workers are told to exit now, not once the dispatcher
    // has woken up to do it (it reaps them).
    if (finished_locked())
      for (auto& w : workers_)
        if (w->fd >= 0) ::shutdown(w->fd, SHUT_WR);
  }
  for (Pending& p : cancelled) {
    if (!p.claimed) {
      p.s->cancel();
    } else if (!p.s->done()) {
      // Claimed for a retry after a failed send: it never ran; report it cancelled.
      p.s->finish_with(std::make_exception_ptr(CancelledError("cancelled at shutdown")));
    }
    p.s->release();
  }
  wake();
  if (!wait || dispatching_ == this) return;  // a callback cannot wait for its own thread
  {
    std::scoped_lock hold(mu_);
    if (!dispatcher_started_) return;
  }
  dispatcher_done_.wait();  // throws when the caller is stopped
  std::scoped_lock joining(join_mu_);
  if (dispatcher_.joinable()) dispatcher_.join();
}

std::string ProcessPoolCore::task_frame(std::uint64_t id, const CodeRef& invoker, const CodeRef& fn,
                              const std::string& args) {
  WireWriter m;
  m.write(std::uint32_t{0});  // the length, patched below
  m.write('T');
  m.write(id);
  m.write(invoker);
  m.write(fn);
  m.raw(args.data(), args.size());
  return framed(std::move(m.buffer()));
}

std::string ProcessPoolCore::hello_frame() const {
  WireWriter hello;
  hello.write(std::uint32_t{0});  // the length, patched below
  hello.write('H');
  hello.write(static_cast<std::uint64_t>(options_.max_tasks_per_child));
  hello.write(static_cast<std::uint8_t>(options_.initializer != nullptr));
  if (options_.initializer != nullptr) hello.write(init_ref_);
  return framed(std::move(hello.buffer()));
}

void ProcessPoolCore::wake() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
}

std::size_t ProcessPoolCore::live_locked() const {
  std::size_t n = starting_;
  for (auto& w : workers_) n += (w->fd >= 0 && !w->retiring) ? 1 : 0;
  return n;
}

void ProcessPoolCore::start_dispatcher_locked() {
  if (dispatcher_started_) return;
  try {
    static std::atomic<unsigned> dispatchers{0};  // OS names ProcessPool-0, -1, ...
    dispatcher_ = std::thread([this, n = dispatchers.fetch_add(1)] {
      char name[16];
      std::snprintf(name, sizeof name, "ProcessPool-%u", n);
      set_current_os_thread_name(name);
      run_dispatcher();
    });
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("can't start new thread: ") + e.what());
  }
  dispatcher_started_ = true;
}

void ProcessPoolCore::start_task_locked(Worker& w, Pending p) {
  w.current = std::move(p);
  w.sent = 0;
  w.sending = true;
  write_some_locked(w);
}

void ProcessPoolCore::write_some_locked(Worker& w) {
  if (!w.sending) return;
  const std::string& frame = w.current->frame;
  while (w.sent < frame.size()) {
    const ssize_t k = ::send(w.fd, frame.data() + w.sent, frame.size() - w.sent,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k >= 0) {
      w.sent += static_cast<std::size_t>(k);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    requeue_unsent_locked(w);
    return;
  }
  w.sending = false;
  // Sent: the arguments are not needed any more (while the worker's clone may still fail,
  // the task may have to run elsewhere: kept).
  if (w.start_request == 0) std::string().swap(w.current->frame);
}

void ProcessPoolCore::requeue_unsent_locked(Worker& w) {
  Pending p = std::move(*w.current);
  w.current.reset();
  w.sending = false;
  w.retiring = true;
  p.claimed = true;
  pending_.push_front(std::move(p));
}

void ProcessPoolCore::StartError::set(const char* what, int err) noexcept {
  std::snprintf(text, sizeof text, "%s: %s", what, std::strerror(err));
}

std::unique_ptr<ProcessPoolCore::Worker> ProcessPoolCore::start_worker(
    StartError& error, std::optional<Pending>& first) noexcept {
  std::unique_ptr<Worker> w;
  std::vector<char*> envp;
  std::string marker;
  try {
    w = std::make_unique<Worker>();
    envp = worker_environment(marker, kWorkerMarker);
  } catch (const std::bad_alloc&) {
    error.set("cannot start a worker process", ENOMEM);
    return nullptr;
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    error.set("cannot create a worker socket", errno);
    return nullptr;
  }
  int child_end = sv[1];
  if (child_end == kWorkerFd) {  // dup2(fd, fd) would keep close-on-exec
    child_end = ::fcntl(sv[1], F_DUPFD_CLOEXEC, kWorkerFd + 1);
    const int err = errno;
    ::close(sv[1]);
    if (child_end < 0) {
      ::close(sv[0]);
      error.set("cannot create a worker socket", err);
      return nullptr;
    }
  }
  // The hello and the first task go into the socket before the worker exists, so the
  // worker starts its task as soon as it runs. A new socket's buffer is empty: the short
  // hello fits; what does not fit of the task the dispatcher writes later. Nobody reads
  // the socket yet, so the write cannot fail but for lack of memory.
  iovec parts[2] = {{hello_.data(), hello_.size()}, {nullptr, 0}};
  if (first) parts[1] = {first->frame.data(), first->frame.size()};
  msghdr m{};
  m.msg_iov = parts;
  m.msg_iovlen = first ? 2 : 1;
  ssize_t k;
  while ((k = ::sendmsg(sv[0], &m, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 && errno == EINTR) {
  }
  if (k < static_cast<ssize_t>(hello_.size())) {
    error.set("cannot write to a worker socket", k < 0 ? errno : ENOBUFS);
    ::close(sv[0]);
    ::close(child_end);
    return nullptr;
  }
  const WorkerStart started = start_worker_process(child_end, envp.data());
  ::close(child_end);
  if (started.request == 0 && started.pid <= 0) {
    ::close(sv[0]);
    error.set("cannot start a worker process", -started.pid);
    return nullptr;
  }
  w->pid = started.pid;
  w->start_request = started.request;
  w->fd = sv[0];
  if (first) {
    w->current = std::move(*first);
    first.reset();
    w->sent = static_cast<std::size_t>(k) - hello_.size();
    w->sending = w->sent < w->current->frame.size();
    // Sent: not needed any more, unless the clone may still fail (then it runs elsewhere).
    if (!w->sending && w->start_request == 0) std::string().swap(w->current->frame);
  }
  return w;
}

bool ProcessPoolCore::add_worker_locked(std::unique_ptr<Worker>& w, StartError& error) noexcept {
  try {
    workers_.reserve(workers_.size() + 1);
    idle_.reserve(workers_.size() + 1);
  } catch (const std::bad_alloc&) {
    if (w->start_request != 0) {  // not added: no other thread sees it
      w->pid = worker_process_pid(w->start_request);
      w->start_request = 0;
    }
    if (w->pid > 0) {
      ::kill(w->pid, SIGKILL);
      while (::waitpid(w->pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    ::close(w->fd);
    if (w->current) requeue_unsent_locked(*w);  // never ran: killed before it could answer
    w.reset();
    error.set("cannot start a worker process", ENOMEM);
    return false;
  }
  if (w->start_request == 0) spawn_failures_ = 0;  // else once it answers (on_message)
  if (!w->current) idle_.push_back(w.get());
  workers_.push_back(std::move(w));
  return true;
}

bool ProcessPoolCore::known_pid(Worker& w) noexcept {
  if (w.start_request != 0) {
    const int pid = worker_process_pid(w.start_request);  // may wait: no lock held
    std::scoped_lock hold(mu_);
    w.pid = pid;
    w.start_request = 0;
  }
  return w.pid > 0;
}

void ProcessPoolCore::spawn_for_submit(std::uint64_t id, std::optional<Pending> first) {
  StartError error;
  std::unique_ptr<Worker> w = start_worker(error, first);
  bool withdrawn = false;
  {
    std::scoped_lock hold(mu_);
    --starting_;
    if (first) pending_.push_front(std::move(*first));  // not started: queued again
    if (w && add_worker_locked(w, error)) {
    } else if (live_locked() == 0) {
      auto it = std::find_if(pending_.begin(), pending_.end(),
                             [id](const Pending& p) { return p.id == id; });
      if (it != pending_.end()) {
        pending_.erase(it);  // its references go back through submit's caller
        withdrawn = true;
      }
    }
  }
  wake();
  if (withdrawn) throw RuntimeError(error.text);
}

void ProcessPoolCore::keep_inherited() noexcept {
  static std::atomic<ProcessPoolCore*> kept{nullptr};
  next_kept_ = kept.load(std::memory_order_relaxed);
  while (!kept.compare_exchange_weak(next_kept_, this, std::memory_order_release,
                                     std::memory_order_relaxed)) {
  }
}

ProcessPoolCore* make_process_pool(std::size_t max_workers, ProcessPoolOptions options) {
  return new ProcessPoolCore(max_workers, options);
}
void destroy_process_pool(ProcessPoolCore* core) noexcept { core->destroy_by_owner(); }
void process_submit(ProcessPoolCore* core, FutureStateBase* s, std::uintptr_t invoker,
                    std::uintptr_t fn, std::string args, ResultDeliverer deliver) {
  core->submit(s, invoker, fn, std::move(args), deliver);
}
void process_shutdown(ProcessPoolCore* core, bool wait, bool cancel_futures) {
  core->shutdown(wait, cancel_futures);
}

}  // namespace weft::detail
