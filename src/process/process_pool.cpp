// SPDX-License-Identifier: Apache-2.0
// ProcessPoolExecutor's core: worker start-up (posix_spawn of /proc/self/exe), the
// worker loop, and the parent's dispatcher thread.
//
// Why spawn+exec and not fork: see the class comment in weft/process.hpp.
//
// Messages (both directions): u32 body length, then the body, wire-encoded.
//   parent -> worker  'H' hello: u64 max_tasks, u8 has_initializer, [CodeRef initializer]
//                     'T' task:  u64 id, CodeRef invoker, CodeRef fn, argument bytes
//   worker -> parent  'R' result: u64 id, result bytes
//                     'E' error:  u64 id, string type, string message
//                     'I' initializer failed: string "Type: message"
// A worker serves one task at a time, so when its socket reaches EOF without a result
// the parent knows exactly which task died with it.
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "weft/detail/thread_registry.hpp"
#include "weft/errors.hpp"
#include "weft/process.hpp"

extern char** environ;

namespace weft {

template <>
struct codec<detail::CodeRef> {
  static void encode(WireWriter& w, const detail::CodeRef& r) {
    w.write(r.module);
    w.write(r.offset);
  }
  static detail::CodeRef decode(WireReader& r) {
    detail::CodeRef c;
    c.module = r.read<std::string>();
    c.offset = r.read<std::uint64_t>();
    return c;
  }
};

namespace detail {
namespace {

constexpr int kWorkerFd = 3;  // the worker's end of its socket, in the worker
constexpr const char* kWorkerEnv = "WEFT_PROCESS_WORKER";

// ---- code references ----

struct FindByAddress {
  std::uintptr_t address;
  std::optional<CodeRef> found;
};

int find_by_address(dl_phdr_info* info, std::size_t, void* data) {
  auto* q = static_cast<FindByAddress*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (q->address >= start && q->address < start + ph.p_memsz) {
      q->found = CodeRef{info->dlpi_name != nullptr ? info->dlpi_name : "",
                         q->address - info->dlpi_addr};
      return 1;
    }
  }
  return 0;
}

struct FindByName {
  const std::string* name;
  std::optional<std::uintptr_t> base;
};

int find_by_name(dl_phdr_info* info, std::size_t, void* data) {
  auto* q = static_cast<FindByName*>(data);
  const char* n = info->dlpi_name != nullptr ? info->dlpi_name : "";
  if (*q->name == n) {
    q->base = info->dlpi_addr;
    return 1;
  }
  return 0;
}

// In a worker: the address that `r` names in this process.
std::uintptr_t locate(const CodeRef& r) {
  FindByName q{&r.module, std::nullopt};
  dl_iterate_phdr(find_by_name, &q);
  if (!q.base && !r.module.empty()) {
    // Loaded at run time by the parent: load it here too (kept for the worker's life).
    if (dlopen(r.module.c_str(), RTLD_NOW | RTLD_GLOBAL) != nullptr) dl_iterate_phdr(find_by_name, &q);
  }
  if (!q.base) throw RuntimeError("weft worker: cannot find module '" + r.module + "'");
  return *q.base + r.offset;
}

// ---- socket I/O ----

bool write_all(int fd, const char* p, std::size_t n) noexcept {
  while (n > 0) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

bool read_all(int fd, char* p, std::size_t n) noexcept {
  while (n > 0) {
    const ssize_t k = ::recv(fd, p, n, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

// One message: length prefix + body, sent with one call when it fits.
bool send_message(int fd, const std::string& body) noexcept {
  const auto len = static_cast<std::uint32_t>(body.size());
  std::string frame;
  try {
    frame.reserve(sizeof len + body.size());
    frame.append(reinterpret_cast<const char*>(&len), sizeof len);
    frame.append(body);
  } catch (...) {
    return false;
  }
  return write_all(fd, frame.data(), frame.size());
}

// ---- the worker side ----

[[noreturn]] void worker_exit(int code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  ::_exit(code);
}

[[noreturn]] void worker_main(int fd) {
  std::string body;
  auto receive = [&]() -> bool {
    std::uint32_t len = 0;
    if (!read_all(fd, reinterpret_cast<char*>(&len), sizeof len)) return false;
    body.resize(len);
    return read_all(fd, body.data(), len);
  };
  if (!receive()) worker_exit(0);
  std::uint64_t max_tasks = 0;
  try {
    WireReader hello(body);
    if (hello.read<char>() != 'H') worker_exit(2);
    max_tasks = hello.read<std::uint64_t>();
    if (hello.read<std::uint8_t>() != 0) {
      auto init = reinterpret_cast<void (*)()>(locate(hello.read<CodeRef>()));
      init();
    }
  } catch (...) {
    WireWriter w;
    w.write('I');
    w.write(describe_current_exception());
    send_message(fd, w.buffer());
    worker_exit(1);
  }
  std::uint64_t served = 0;
  std::vector<std::pair<CodeRef, std::uintptr_t>> cache;
  auto resolve = [&](const CodeRef& r) {
    for (auto& [k, v] : cache)
      if (k.offset == r.offset && k.module == r.module) return v;
    const std::uintptr_t a = locate(r);
    cache.emplace_back(r, a);
    return a;
  };
  while (receive()) {
    WireReader in(body);
    WireWriter out;
    std::uint64_t id = 0;
    try {
      if (in.read<char>() != 'T') worker_exit(2);
      id = in.read<std::uint64_t>();
      const CodeRef inv = in.read<CodeRef>();
      const CodeRef fn = in.read<CodeRef>();
      auto invoker = reinterpret_cast<RemoteInvoker>(resolve(inv));
      out.write('R');
      out.write(id);
      invoker(resolve(fn), in, out);
    } catch (...) {
      const std::string type = current_exception_type_name();
      std::string message;
      try {
        throw;
      } catch (const std::exception& e) {
        message = e.what();
      } catch (...) {
      }
      out = WireWriter();
      out.write('E');
      out.write(id);
      out.write(type);
      out.write(message);
    }
    if (!send_message(fd, out.buffer())) worker_exit(0);
    if (max_tasks != 0 && ++served >= max_tasks) break;
  }
  worker_exit(0);
}

// Turns this process into a worker before main() when it was started as one.
struct WorkerEntry {
  WorkerEntry() {
    const char* v = std::getenv(kWorkerEnv);
    if (v == nullptr) return;
    const int fd = std::atoi(v);
    ::unsetenv(kWorkerEnv);  // the worker's own pools start ordinary workers
    // Not inherited by the programs a task runs: the parent sees this worker's end of the
    // socket close (and the worker's death) even while such a program lives on.
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    worker_main(fd);
  }
};
const WorkerEntry worker_entry;

// ---- code references in the parent, cached ----

CodeRef resolve_in_parent(std::uintptr_t address) {
  static std::mutex mu;
  static std::vector<std::pair<std::uintptr_t, CodeRef>> cache;
  {
    std::scoped_lock hold(mu);
    for (auto& [a, r] : cache)
      if (a == address) return r;
  }
  FindByAddress q{address, std::nullopt};
  dl_iterate_phdr(find_by_address, &q);
  if (!q.found) throw ValueError("weft::ProcessPoolExecutor: function address is in no loaded module");
  std::scoped_lock hold(mu);
  if (cache.size() < 256) cache.emplace_back(address, *q.found);
  return *q.found;
}

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

CodeRef code_ref(std::uintptr_t address) { return resolve_in_parent(address); }

// ---- the parent side ----

namespace {

// The core whose dispatcher runs on this thread (null elsewhere).
thread_local ProcessPoolCore* tls_dispatching = nullptr;

// A pool that could not start a worker while no worker was alive retries after these
// delays (10 ms doubling), then fails its queued tasks (the pool itself stays usable).
constexpr int kSpawnRetries = 8;
constexpr int kFirstSpawnRetryMs = 10;

}  // namespace

class ProcessPoolCore {
 public:
  ProcessPoolCore(std::size_t max_workers, ProcessPoolOptions options)
      : max_workers_(max_workers != 0 ? max_workers
                                      : std::max(1u, std::thread::hardware_concurrency())),
        options_(options) {
    if (options_.initializer != nullptr)
      init_ref_ = code_ref(reinterpret_cast<std::uintptr_t>(options_.initializer));
    hello_ = hello_frame();
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw RuntimeError(std::string("eventfd: ") + std::strerror(errno));
  }

  ~ProcessPoolCore() {
    shutdown(true, false);
    ::close(wake_fd_);
  }

  // The executor's destructor. On the dispatcher thread (in a done callback) the pool
  // cannot wait for itself: it shuts down without waiting and the dispatcher frees it
  // once the queued tasks are done and the workers have exited.
  void destroy_by_owner() noexcept {
    if (inherited()) {
      keep_inherited();
      return;
    }
    if (tls_dispatching == this) {
      shutdown(false, false);
      free_when_done_ = true;
      return;
    }
    delete this;
  }

  void submit(FutureStateBase* s, std::uintptr_t invoker, std::uintptr_t fn, std::string args,
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
        // More queued tasks than idle or starting workers: one more worker, if allowed.
        spawn = pending_.size() > idle_.size() + starting_ && live_locked() < max_workers_;
        if (spawn) ++starting_;
      }
    }
    if (spawn) spawn_for_submit(id);
    if (need_wake) wake();
  }

  void shutdown(bool wait, bool cancel_futures) {
    if (inherited()) return;  // the parent's workers and futures are not this process's
    std::deque<Pending> cancelled;
    {
      std::scoped_lock hold(mu_);
      shutdown_ = true;
      if (cancel_futures) cancelled.swap(pending_);
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
    if (!wait || tls_dispatching == this) return;  // a callback cannot wait for its own thread
    std::scoped_lock joining(join_mu_);
    if (dispatcher_.joinable()) dispatcher_.join();
  }

 private:
  struct Pending {
    std::uint64_t id;
    FutureStateBase* s;
    std::string frame;  // the whole 'T' message, length prefix included
    ResultDeliverer deliver;
    bool claimed;  // already moved to running (a retry after a failed send)
  };
  struct Worker {
    pid_t pid = -1;
    int fd = -1;                     // closed (-1) only by the dispatcher, under mu_
    std::optional<Pending> current;  // under mu_
    std::size_t sent = 0;            // under mu_: bytes of current->frame written
    bool sending = false;            // under mu_: current->frame not completely written
    bool retiring = false;           // under mu_: never picked again (exiting or gone)
    std::uint64_t served = 0;        // dispatcher only
    std::string in;                  // dispatcher only
  };

  static std::string task_frame(std::uint64_t id, const CodeRef& invoker, const CodeRef& fn,
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

  void wake() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
  }

  // Under mu_. Workers that can take a task now or soon, including those being started.
  std::size_t live_locked() const {
    std::size_t n = starting_;
    for (auto& w : workers_) n += (w->fd >= 0 && !w->retiring) ? 1 : 0;
    return n;
  }

  // Under mu_. Throws RuntimeError("can't start new thread") as weft::Thread does.
  void start_dispatcher_locked() {
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

  // Under mu_: gives p to the idle worker w and writes what the socket takes without
  // blocking; the dispatcher writes the rest when the socket has room.
  void start_task_locked(Worker& w, Pending p) {
    w.current = std::move(p);
    w.sent = 0;
    w.sending = true;
    write_some_locked(w);
  }

  // Under mu_: writes as much of w's task as its socket takes now (never blocks). A
  // worker that cannot be written to is gone: its task, which cannot have started (a
  // worker starts a task only once it has read all of it), goes back to the front of
  // the queue and the worker is never picked again (the poll loop reaps it).
  void write_some_locked(Worker& w) {
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
    std::string().swap(w.current->frame);  // sent: the arguments are not needed any more
  }

  // Under mu_: w's task never reached it in full; it goes back to the front of the queue.
  void requeue_unsent_locked(Worker& w) {
    Pending p = std::move(*w.current);
    w.current.reset();
    w.sending = false;
    w.retiring = true;
    p.claimed = true;
    pending_.push_front(std::move(p));
  }

  // Why a worker could not be started; filled without allocating.
  struct StartError {
    char text[160] = "";
    void set(const char* what, int err) noexcept {
      std::snprintf(text, sizeof text, "%s: %s", what, std::strerror(err));
    }
  };

  // Starts one worker process (no lock held). Null, with the reason in `error`, when
  // the system refuses (no descriptors, processes or memory: EMFILE, EAGAIN, ENOMEM).
  // Everything that allocates happens before a descriptor or a process exists.
  std::unique_ptr<Worker> start_worker(StartError& error) noexcept {
    std::unique_ptr<Worker> w;
    std::vector<char*> envp;
    std::string marker;
    try {
      w = std::make_unique<Worker>();
      for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        if (std::strncmp(*e, kWorkerEnv, std::strlen(kWorkerEnv)) == 0 &&
            (*e)[std::strlen(kWorkerEnv)] == '=')
          continue;
        envp.push_back(*e);
      }
      marker = std::string(kWorkerEnv) + "=" + std::to_string(kWorkerFd);
      envp.push_back(marker.data());
      envp.push_back(nullptr);
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
    const int rc = spawn_program(child_end, envp.data());
    ::close(child_end);
    if (rc <= 0) {
      ::close(sv[0]);
      error.set("cannot start a worker process", -rc);
      return nullptr;
    }
    w->pid = rc;
    w->fd = sv[0];
    // A new socket's buffer is empty, so this short message fits; if it does not go out
    // whole, the worker is treated as dead (EOF in the poll loop) and replaced.
    if (::send(w->fd, hello_.data(), hello_.size(), MSG_NOSIGNAL | MSG_DONTWAIT) !=
        static_cast<ssize_t>(hello_.size()))
      ::shutdown(w->fd, SHUT_RDWR);
    return w;
  }

  // The first message to every worker: u32 length, 'H', max tasks, the initializer.
  std::string hello_frame() const {
    WireWriter hello;
    hello.write(std::uint32_t{0});  // the length, patched below
    hello.write('H');
    hello.write(static_cast<std::uint64_t>(options_.max_tasks_per_child));
    hello.write(static_cast<std::uint8_t>(options_.initializer != nullptr));
    if (options_.initializer != nullptr) hello.write(init_ref_);
    return framed(std::move(hello.buffer()));
  }

  // Patches the length prefix of a message built after a placeholder u32.
  static std::string framed(std::string message) {
    const std::size_t body = message.size() - sizeof(std::uint32_t);
    if (body > UINT32_MAX) throw ValueError("weft::ProcessPoolExecutor: arguments over 4 GiB");
    const auto len = static_cast<std::uint32_t>(body);
    std::memcpy(message.data(), &len, sizeof len);
    return message;
  }

  // posix_spawn of this program as a worker whose socket is `child_end` (fd kWorkerFd
  // in the worker, which gets no other descriptor of ours but stdin, stdout and stderr).
  // Returns the pid, or -errno.
  static int spawn_program(int child_end, char** envp) noexcept {
    char arg0[] = "weft-process-worker";
    char* argv[] = {arg0, nullptr};
    posix_spawn_file_actions_t fa;
    if (const int rc = posix_spawn_file_actions_init(&fa); rc != 0) return -rc;
    int rc = posix_spawn_file_actions_adddup2(&fa, child_end, kWorkerFd);
    // The program's own descriptors without close-on-exec stay out of the worker too
    // (a pipe's write end kept open by a worker would hide the pipe's end from its reader).
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&fa, kWorkerFd + 1);
    pid_t pid = -1;
    if (rc == 0) rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? static_cast<int>(pid) : -rc;
  }

  // Under mu_: a started worker joins the pool, idle. Without memory for it, it is
  // stopped instead and `error` says so; returns false.
  bool add_worker_locked(std::unique_ptr<Worker>& w, StartError& error) noexcept {
    try {
      workers_.reserve(workers_.size() + 1);
      idle_.reserve(workers_.size() + 1);
    } catch (const std::bad_alloc&) {
      ::kill(w->pid, SIGKILL);
      while (::waitpid(w->pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      ::close(w->fd);
      w.reset();
      error.set("cannot start a worker process", ENOMEM);
      return false;
    }
    idle_.push_back(w.get());
    workers_.push_back(std::move(w));
    spawn_failures_ = 0;
    return true;
  }

  // submit() found no idle worker and a free slot (reserved in starting_): it starts a
  // worker itself, as Python does. When that fails and no worker is alive or starting,
  // nothing could run the task: it is withdrawn and submit() throws RuntimeError; the
  // pool stays usable. With a live worker the task stays queued for it.
  void spawn_for_submit(std::uint64_t id) {
    StartError error;
    std::unique_ptr<Worker> w = start_worker(error);
    bool withdrawn = false;
    {
      std::scoped_lock hold(mu_);
      --starting_;
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

  // Fails every queued task and every later submit (a worker's initializer failed).
  void break_pool(const std::string& why) {
    std::deque<Pending> failed;
    {
      std::scoped_lock hold(mu_);
      if (broken_.empty()) broken_ = why;
      failed.swap(pending_);
    }
    fail_all(failed, why);
  }

  static void fail_all(std::deque<Pending>& tasks, const std::string& why) {
    for (Pending& p : tasks) {
      if (p.claimed || p.s->try_claim())
        p.s->finish_with(std::make_exception_ptr(BrokenProcessPool(why)));
      p.s->release();
    }
  }

  static void fail(Pending& p, const std::string& why) {
    p.s->finish_with(std::make_exception_ptr(BrokenProcessPool(why)));
    p.s->release();
  }

  // Hands queued tasks to idle workers and starts workers while work waits. A worker
  // that cannot be started is retried later; only when no worker is alive to run the
  // queued tasks and kSpawnRetries attempts have failed are they failed (the pool is
  // not broken: a later submit starts workers again). Returns the poll timeout in ms
  // (-1: none) that schedules the next attempt.
  int assign() {
    for (;;) {
      bool spawn = false;
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
            spawn = live_locked() < max_workers_ && workers_.size() < 2 * max_workers_;
            if (spawn) ++starting_;
            break;
          }
          Pending p = std::move(front);
          pending_.pop_front();
          if (!p.claimed && !p.s->try_claim()) {  // cancelled just now
            dropped.push_back(std::move(p));
            continue;
          }
          p.claimed = true;
          Worker* w = idle_.back();
          idle_.pop_back();
          start_task_locked(*w, std::move(p));
        }
      }
      for (Pending& p : dropped) p.s->release();
      if (!spawn) return -1;
      StartError error;
      std::unique_ptr<Worker> w = start_worker(error);
      std::deque<Pending> stranded;
      int retry_ms = -1;
      {
        std::scoped_lock hold(mu_);
        --starting_;
        if (w && add_worker_locked(w, error)) continue;
        if (live_locked() == 0) {
          if (++spawn_failures_ <= kSpawnRetries) {
            retry_ms = kFirstSpawnRetryMs << (spawn_failures_ - 1);
          } else {
            spawn_failures_ = 0;
            stranded.swap(pending_);
          }
        }
      }
      if (!stranded.empty())
        fail_all(stranded, std::string(error.text) + " (no worker process was left to run this task)");
      return retry_ms;
    }
  }

  // One complete message from w. Bookkeeping under mu_; the future is completed after
  // the lock is released (its callbacks may submit again).
  void on_message(Worker& w, std::string_view body) {
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

  // The worker's socket reached EOF: every copy of the worker's end is closed, so the
  // worker is exiting or gone (SIGKILL makes sure: one that closed its socket itself can
  // serve no more). Reaps it; its task fails, or goes back to the queue if it never
  // reached the worker in full.
  void on_eof(Worker& w) {
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

  void read_from(Worker& w) {
    char buf[65536];
    const ssize_t k = ::recv(w.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (k <= 0) {
      on_eof(w);
      return;
    }
    w.in.append(buf, static_cast<std::size_t>(k));
    std::size_t pos = 0;
    for (;;) {
      std::uint32_t len = 0;
      if (w.in.size() - pos < sizeof len) break;
      std::memcpy(&len, w.in.data() + pos, sizeof len);
      if (w.in.size() - pos - sizeof len < len) break;
      try {
        on_message(w, std::string_view(w.in).substr(pos + sizeof len, len));
      } catch (...) {
        ::shutdown(w.fd, SHUT_RDWR);  // a malformed message: treat the worker as dead
      }
      pos += sizeof len + len;
    }
    w.in.erase(0, pos);
  }

  // Under mu_.
  bool finished_locked() const {
    if (!shutdown_ || !pending_.empty()) return false;
    for (auto& w : workers_)
      if (w->fd >= 0 && w->current) return false;
    return true;
  }

  void run_dispatcher() {
    tls_dispatching = this;
    dispatch();
    if (free_when_done_) {  // destroyed from a callback on this thread
      dispatcher_.detach();
      delete this;
    }
  }

  void dispatch() {
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

  // ---- fork ----
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
  void keep_inherited() noexcept {
    static std::atomic<ProcessPoolCore*> kept{nullptr};
    next_kept_ = kept.load(std::memory_order_relaxed);
    while (!kept.compare_exchange_weak(next_kept_, this, std::memory_order_release,
                                       std::memory_order_relaxed)) {
    }
  }

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
  std::size_t starting_ = 0;                      // workers being started
  int spawn_failures_ = 0;  // failed starts in a row while no worker was alive
  bool shutdown_ = false;
  bool dispatcher_started_ = false;
  std::string broken_;
  std::thread dispatcher_;
  std::mutex join_mu_;
  bool free_when_done_ = false;  // dispatcher thread only
};

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

}  // namespace detail
}  // namespace weft
