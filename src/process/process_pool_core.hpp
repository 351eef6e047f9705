// SPDX-License-Identifier: Apache-2.0
// src/process/process_pool_core.hpp: ProcessPoolExecutor's core, private to src/process.
//
// Submitting threads queue tasks and hand them to idle workers (process_pool.cpp); one
// dispatcher thread per pool writes what a socket did not take at once, reads results,
// starts and reaps workers (dispatcher.cpp). The workers and the messages they exchange
// with the pool: worker.hpp.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "weft/event.hpp"
#include "weft/process.hpp"

namespace weft::detail {

class ProcessPoolCore {
 public:
  ProcessPoolCore(std::size_t max_workers, ProcessPoolOptions options);
  ~ProcessPoolCore();
  ProcessPoolCore(const ProcessPoolCore&) = delete;
  ProcessPoolCore& operator=(const ProcessPoolCore&) = delete;

  // The executor's destructor. On the dispatcher thread (in a done callback) the pool
  // cannot wait for itself: it shuts down without waiting and the dispatcher frees it
  // once the queued tasks are done and the workers have exited.
  void destroy_by_owner() noexcept;

  // Queues the task (an idle worker takes it at once) and starts a worker when more
  // tasks wait than workers can take. Throws BrokenProcessPool (a broken pool, or one
  // inherited through fork), RuntimeError after shutdown or when no worker can start.
  void submit(FutureStateBase* s, std::uintptr_t invoker, std::uintptr_t fn, std::string args,
              ResultDeliverer deliver);

  // Refuses later submits; with cancel_futures, cancels the queued tasks; with wait,
  // waits until the dispatcher is done (every queued task finished, every worker gone)
  // and joins it (not from the dispatcher itself: a callback cannot wait for its own
  // thread). The wait honours the caller's stops (CancelScope, Timeout, request_stop,
  // Ctrl-C: see weft/cancel.hpp) and throws as any blocking call; the pool stays shut
  // down and finishes in the background. The destructor's wait is not interruptible.
  void shutdown(bool wait, bool cancel_futures);

 private:
  struct Pending {
    std::uint64_t id;
    FutureStateBase* s;
    std::string frame;  // the whole 'T' message, length prefix included
    ResultDeliverer deliver;
    bool claimed;  // already moved to running (a retry after a failed send)
  };
  struct Worker {
    // Once added: written by the dispatcher under mu_, read by it without (known_pid).
    pid_t pid = -1;
    std::uint64_t start_request = 0;  // the fork server's answer (the pid) is still to read
    int fd = -1;                     // closed (-1) only by the dispatcher, under mu_
    std::optional<Pending> current;  // under mu_
    std::size_t sent = 0;            // under mu_: bytes of current->frame written
    bool sending = false;            // under mu_: current->frame not completely written
    bool retiring = false;           // under mu_: never picked again (exiting or gone)
    std::uint64_t served = 0;        // dispatcher only
    std::string in;                  // dispatcher only
  };
  // Why a worker could not be started; filled without allocating.
  struct StartError {
    char text[160] = "";
    void set(const char* what, int err) noexcept;
  };

  // ---- submitting (process_pool.cpp) ----

  // The 'T' message of a task, length prefix included.
  static std::string task_frame(std::uint64_t id, const CodeRef& invoker, const CodeRef& fn,
                                const std::string& args);
  // The first message to every worker: u32 length, 'H', max tasks, the initializer.
  std::string hello_frame() const;
  // Wakes the dispatcher's poll.
  void wake() noexcept;
  // Under mu_. Workers that can take a task now or soon, including those being started.
  std::size_t live_locked() const;
  // Under mu_. Throws RuntimeError("can't start new thread") as weft::Thread does.
  void start_dispatcher_locked();
  // Under mu_: gives p to the idle worker w and writes what the socket takes without
  // blocking; the dispatcher writes the rest when the socket has room.
  void start_task_locked(Worker& w, Pending p);
  // Under mu_: writes as much of w's task as its socket takes now (never blocks). A
  // worker that cannot be written to is gone: its task, which cannot have started (a
  // worker starts a task only once it has read all of it), goes back to the front of
  // the queue and the worker is never picked again (the poll loop reaps it).
  void write_some_locked(Worker& w);
  // Under mu_: w's task never reached it in full, or never ran (its process was never
  // started or was killed first); it goes back to the front of the queue.
  void requeue_unsent_locked(Worker& w);

  // ---- starting workers (process_pool.cpp) ----

  // Under mu_: the task a worker being started will run first: the oldest queued one that
  // is not cancelled (claimed now), or none. Cancelled ones go to `dropped` (released by
  // the caller once mu_ is unlocked).
  std::optional<Pending> take_queued_locked(std::vector<Pending>& dropped);
  // Starts one worker process (no lock held) whose socket already holds the hello and as
  // much of `first`'s task (claimed; may be empty) as fits: the worker starts that task
  // as soon as it runs, without a hop through the dispatcher. On success the worker
  // carries `first` as its current task; on failure `first` is left as it was. Null,
  // with the reason in `error`, when the system refuses (no descriptors, processes or
  // memory: EMFILE, EAGAIN, ENOMEM). Everything that allocates happens before a
  // descriptor or a process exists.
  std::unique_ptr<Worker> start_worker(StartError& error, std::optional<Pending>& first) noexcept;
  // Whether w's process exists, reading its pid from the fork server's answer first if
  // that is still due. False: its clone failed (nothing ran on its socket) or its pid is
  // unknown (the server went away before answering).
  // Dispatcher only.
  bool known_pid(Worker& w) noexcept;
  // Under mu_: a start failed. While no worker lives, the next start waits (10 ms
  // doubling) and after kSpawnRetries the queued tasks are failed (moved to `stranded`;
  // the pool itself stays usable); with a live worker, the next start waits 10 ms.
  // Returns the wait in ms.
  int start_failed_locked(std::deque<Pending>& stranded);
  // Under mu_: a started worker joins the pool (idle unless it carries a task). Without
  // memory for it, it is stopped instead, its task goes back to the front of the queue,
  // and `error` says so; returns false.
  bool add_worker_locked(std::unique_ptr<Worker>& w, StartError& error) noexcept;
  // submit() found no idle worker and a free slot (reserved in starting_): it starts a
  // worker itself, as Python does, and hands it `first` (the oldest queued task). When
  // that fails, `first` goes back to the front of the queue; if no worker is alive or
  // starting, nothing could run task `id`: it is withdrawn and submit() throws
  // RuntimeError; the pool stays usable. With a live worker the task stays queued for it.
  void spawn_for_submit(std::uint64_t id, std::optional<Pending> first);

  // ---- the dispatcher (dispatcher.cpp) ----

  // The worker's clone failed after its request was sent (its socket reached EOF): its
  // task never ran and goes back to the front of the queue; counts as a failed start.
  void on_failed_start(Worker& w);

  // Fails every queued task and every later submit (a worker's initializer failed).
  void break_pool(const std::string& why);
  // Completes each task (claiming it first if needed) with BrokenProcessPool(why).
  static void fail_all(std::deque<Pending>& tasks, const std::string& why);
  // Completes a claimed task with BrokenProcessPool(why).
  static void fail(Pending& p, const std::string& why);
  // Hands queued tasks to idle workers and starts workers while work waits. A worker
  // that cannot be started is retried later; only when no worker is alive to run the
  // queued tasks and kSpawnRetries attempts have failed are they failed (the pool is
  // not broken: a later submit starts workers again). Returns the poll timeout in ms
  // (-1: none) that schedules the next attempt.
  int assign();
  // One complete message from w. Bookkeeping under mu_; the future is completed after
  // the lock is released (its callbacks may submit again).
  void on_message(Worker& w, std::string_view body);
  // The worker's socket reached EOF: every copy of the worker's end is closed, so the
  // worker is exiting or gone (SIGKILL makes sure: one that closed its socket itself can
  // serve no more). Reaps it; its task fails, or goes back to the queue if it never
  // reached the worker in full.
  void on_eof(Worker& w);
  // Reads what w sent and handles every complete message; a malformed one counts as
  // the worker's death.
  void read_from(Worker& w);
  // Under mu_: shut down, nothing queued, no worker being started (it may carry a task),
  // no task on a live worker.
  bool finished_locked() const;
  // The dispatcher thread: dispatch(), then frees the pool if its owner asked it to.
  void run_dispatcher();
  // Polls the workers' sockets until shut down and finished, then stops the workers.
  void dispatch();

  // ---- fork (process_pool.cpp) ----
  // A pid check, not pthread_atfork handlers: the child never reads or changes the
  // copied state, so it does not matter what another thread of the parent was doing
  // with it at the fork (its mutex may even be copied locked); no lock is held across
  // fork() (weft's wait table already holds its own there, and a handler that locked
  // every pool would make fork() wait for busy pools); and forks that run no handlers
  // (a raw clone) are covered too. The cost is one getpid() per submit, next to the
  // encoding and a socket write. The child's copies of the pool's descriptors are
  // close-on-exec; a child that does not exec keeps them until it exits.
  bool inherited() const noexcept { return ::getpid() != owner_pid_; }
  // In a forked child, instead of the destructor: the copy is neither used nor freed
  // (freeing would read it), only kept reachable.
  void keep_inherited() noexcept;

  // The core whose dispatcher runs on this thread (null elsewhere).
  static thread_local ProcessPoolCore* dispatching_;

  const std::size_t max_workers_;
  const ProcessPoolOptions options_;
  CodeRef init_ref_;
  std::string hello_;  // hello_frame()
  int wake_fd_ = -1;
  const pid_t owner_pid_ = ::getpid();
  ProcessPoolCore* next_kept_ = nullptr;  // keep_inherited() only
  std::atomic<std::uint64_t> next_id_{0};

  std::mutex mu_;  // guards the fields below, each Worker's current/sending/retiring/fd
  std::deque<Pending> pending_;
  std::vector<Worker*> idle_;                     // live workers with no task
  std::vector<std::unique_ptr<Worker>> workers_;  // erased only by the dispatcher
  std::size_t starting_ = 0;                      // workers being started, each with a task
  int spawn_failures_ = 0;  // failed starts in a row while no worker was alive
  std::chrono::steady_clock::time_point no_spawn_before_{};  // the dispatcher's next start
  bool shutdown_ = false;
  bool dispatcher_started_ = false;
  std::string broken_;
  std::thread dispatcher_;
  Event dispatcher_done_;  // set once dispatch() has returned
  std::mutex join_mu_;
  bool free_when_done_ = false;  // dispatcher thread only
};

}  // namespace weft::detail
