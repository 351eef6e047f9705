// SPDX-License-Identifier: Apache-2.0
// src/process/dispatcher.cpp: a process pool's dispatcher thread: it hands queued tasks to
// idle workers and starts workers while work waits, writes the rest of tasks that did not
// fit a socket at once, reads results and completes their futures, reaps dead workers,
// and stops the workers at shutdown.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>

#include "process/framing.hpp"
#include "process/process_pool_core.hpp"
#include "weft/errors.hpp"

namespace weft::detail {
namespace {

// A pool that could not start a worker while no worker was alive retries after these
// delays (10 ms doubling), then fails its queued tasks (the pool itself stays usable).
constexpr int kSpawnRetries = 8;
constexpr int kFirstSpawnRetryMs = 10;

std::string describe_status(pid_t pid, int status) {
  std::string s = "worker process " + std::to_string(pid);
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = strsignal(sig);
    return s + " was killed by signal " + std::to_string(sig) + " (" + (name ? name : "?") + ")";
  }
  if (WIFEXITED(status)) return s + " exited with status " + std::to_string(WEXITSTATUS(status));
  return s + " died";
}

}  // namespace

thread_local ProcessPoolCore* ProcessPoolCore::dispatching_ = nullptr;

void ProcessPoolCore::break_pool(const std::string& why) {
  std::deque<Pending> failed;
  {
    std::scoped_lock hold(mu_);
    if (broken_.empty()) broken_ = why;
    failed.swap(pending_);
  }
  fail_all(failed, why);
}

void ProcessPoolCore::fail_all(std::deque<Pending>& tasks, const std::string& why) {
  for (Pending& p : tasks) {
    if (p.claimed || p.s->try_claim())
      p.s->finish_with(std::make_exception_ptr(BrokenProcessPool(why)));
    p.s->release();
  }
}

void ProcessPoolCore::fail(Pending& p, const std::string& why) {
  p.s->finish_with(std::make_exception_ptr(BrokenProcessPool(why)));
  p.s->release();
}

int ProcessPoolCore::assign() {
  for (;;) {
    int wait_ms = -1;
    std::optional<Pending> first;  // the task of a worker to start
    std::vector<Pending> dropped;  // cancelled while queued
    {
      std::scoped_lock hold(mu_);
      while (!pending_.empty() && broken_.empty()) {
        Pending& front = pending_.front();
        if (!front.claimed && front.s->phase() == FutureStateBase::kCancelled) {
          dropped.push_back(std::move(front));
          pending_.pop_front();
          continue;
        }
        if (idle_.empty()) {
          // Only when no submit is starting a worker: a submit whose own start fails
          // while no worker lives takes its task back and throws, and that verdict must
          // not depend on a start of the dispatcher's that happens to be under way.
          if (starting_ == 0 && live_locked() < max_workers_ && workers_.size() < 2 * max_workers_) {
            const auto now = std::chrono::steady_clock::now();
            if (now < no_spawn_before_) {  // after a failed start
              wait_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(
                                             no_spawn_before_ - now)
                                             .count());
            } else {
              first = take_queued_locked(dropped);
              if (first) ++starting_;
            }
          }
          break;
        }
        std::optional<Pending> p = take_queued_locked(dropped);
        if (!p) break;
        Worker* w = idle_.back();
        idle_.pop_back();
        start_task_locked(*w, std::move(*p));
      }
    }
    for (Pending& p : dropped) p.s->release();
    if (!first) return wait_ms;
    StartError error;
    std::unique_ptr<Worker> w = start_worker(error, first);
    std::deque<Pending> stranded;
    int retry_ms = -1;
    {
      std::scoped_lock hold(mu_);
      --starting_;
      if (first) pending_.push_front(std::move(*first));  // not started: queued again
      if (w && add_worker_locked(w, error)) continue;
      retry_ms = start_failed_locked(stranded);
    }
    if (!stranded.empty())
      fail_all(stranded, std::string(error.text) + " (no worker process was left to run this task)");
    return retry_ms;
  }
}

int ProcessPoolCore::start_failed_locked(std::deque<Pending>& stranded) {
  int wait_ms = kFirstSpawnRetryMs;
  if (live_locked() == 0) {
    if (++spawn_failures_ <= kSpawnRetries) {
      wait_ms = kFirstSpawnRetryMs << (spawn_failures_ - 1);
    } else {
      spawn_failures_ = 0;
      stranded.swap(pending_);
    }
  }
  no_spawn_before_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  return wait_ms;
}

void ProcessPoolCore::on_failed_start(Worker& w) {
  std::deque<Pending> stranded;
  {
    std::scoped_lock hold(mu_);
    ::close(w.fd);
    w.fd = -1;
    w.retiring = true;
    w.sending = false;
    std::erase(idle_, &w);
    if (w.current) requeue_unsent_locked(w);  // never ran: no process read it
    start_failed_locked(stranded);
  }
  if (!stranded.empty())
    fail_all(stranded, "cannot start a worker process (no worker process was left to run this task)");
}

void ProcessPoolCore::on_message(Worker& w, std::string_view body) {
  WireReader r(body);
  const char kind = r.read<char>();
  if (kind == 'I') {
    const std::string why =
        "A process in the pool failed its initializer: " + r.read<std::string>();
    break_pool(why);  // first: once its task fails, submit() must already refuse
    std::optional<Pending> p;
    {
      std::scoped_lock hold(mu_);
      p.swap(w.current);
      w.sending = false;
      w.retiring = true;
    }
    if (p) fail(*p, why);
    return;
  }
  const std::uint64_t id = r.read<std::uint64_t>();
  Pending p;
  {
    std::scoped_lock hold(mu_);
    if (!w.current || w.current->id != id || w.sending) return;  // not reached
    p = std::move(*w.current);
    w.current.reset();
    ++w.served;
    spawn_failures_ = 0;  // a worker answered: starts work
    if (options_.max_tasks_per_child != 0 && w.served >= options_.max_tasks_per_child) {
      w.retiring = true;  // it exits by itself after this result
    } else {
      idle_.push_back(&w);
    }
  }
  if (kind == 'R') {
    p.deliver(p.s, r);
  } else {
    const std::string type = r.read<std::string>();
    const std::string message = r.read<std::string>();
    p.s->finish_with(std::make_exception_ptr(RemoteError(type + ": " + message)));
  }
  p.s->release();
}

void ProcessPoolCore::on_eof(Worker& w) {
  if (!known_pid(w)) {
    on_failed_start(w);
    return;
  }
  ::kill(w.pid, SIGKILL);  // not reaped yet, so the pid is still the worker's
  int status = 0;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::optional<Pending> p;
  {
    std::scoped_lock hold(mu_);
    if (w.sending) requeue_unsent_locked(w);
    ::close(w.fd);
    w.fd = -1;
    w.retiring = true;
    std::erase(idle_, &w);
    p.swap(w.current);
  }
  if (p) fail(*p, describe_status(w.pid, status) + " while running this task");
}

void ProcessPoolCore::read_from(Worker& w) {
  char buf[65536];
  const ssize_t k = ::recv(w.fd, buf, sizeof buf, MSG_DONTWAIT);
  if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (k <= 0) {
    on_eof(w);
    return;
  }
  w.in.append(buf, static_cast<std::size_t>(k));
  std::size_t pos = 0;
  while (const std::optional<std::string_view> body = next_message(w.in, pos)) {
    try {
      on_message(w, *body);
    } catch (...) {
      ::shutdown(w.fd, SHUT_RDWR);  // a malformed message: treat the worker as dead
    }
  }
  w.in.erase(0, pos);
}

bool ProcessPoolCore::finished_locked() const {
  if (!shutdown_ || !pending_.empty() || starting_ != 0) return false;
  for (auto& w : workers_)
    if (w->fd >= 0 && w->current) return false;
  return true;
}

void ProcessPoolCore::run_dispatcher() {
  dispatching_ = this;
  dispatch();
  dispatcher_done_.set();
  if (free_when_done_) {  // destroyed from a callback on this thread
    dispatcher_.detach();
    delete this;
  }
}

void ProcessPoolCore::dispatch() {
  std::vector<pollfd> fds;
  std::vector<Worker*> polled;
  for (;;) {
    const int timeout_ms = assign();
    {
      std::scoped_lock hold(mu_);
      std::erase_if(workers_, [](const std::unique_ptr<Worker>& w) { return w->fd < 0; });
      if (finished_locked()) break;
      polled.clear();
      fds.clear();
      fds.push_back(pollfd{wake_fd_, POLLIN, 0});
      for (auto& w : workers_) {
        polled.push_back(w.get());
        fds.push_back(pollfd{w->fd, static_cast<short>(POLLIN | (w->sending ? POLLOUT : 0)), 0});
      }
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0) continue;  // EINTR
    if ((fds[0].revents & POLLIN) != 0) {
      std::uint64_t n;
      [[maybe_unused]] ssize_t r = ::read(wake_fd_, &n, sizeof n);
    }
    // Only this thread erases workers, so every polled one is still there.
    for (std::size_t i = 1; i < fds.size(); ++i) {
      Worker& w = *polled[i - 1];
      if ((fds[i].revents & POLLOUT) != 0) {
        std::scoped_lock hold(mu_);
        write_some_locked(w);
      }
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) read_from(w);
    }
  }
  // Shut down: closing the write side tells each worker to exit; each is reaped at EOF.
  {
    std::scoped_lock hold(mu_);
    idle_.clear();
    polled.clear();
    for (auto& w : workers_) polled.push_back(w.get());
  }
  for (Worker* w : polled) ::shutdown(w->fd, SHUT_WR);
  while (!polled.empty()) {
    fds.clear();
    for (Worker* w : polled) fds.push_back(pollfd{w->fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t k = ::recv(polled[i]->fd, buf, sizeof buf, MSG_DONTWAIT);
      if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
        on_eof(*polled[i]);
      }
    }
    std::erase_if(polled, [](Worker* w) { return w->fd < 0; });
  }
  std::scoped_lock hold(mu_);
  workers_.clear();
}

}  // namespace weft::detail
