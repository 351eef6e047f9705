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

#include <cerrno>
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

class ProcessPoolCore {
 public:
  ProcessPoolCore(std::size_t max_workers, ProcessPoolOptions options)
      : max_workers_(max_workers != 0 ? max_workers
                                      : std::max(1u, std::thread::hardware_concurrency())),
        options_(options) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw RuntimeError(std::string("eventfd: ") + std::strerror(errno));
    if (options_.initializer != nullptr)
      init_ref_ = code_ref(reinterpret_cast<std::uintptr_t>(options_.initializer));
  }

  ~ProcessPoolCore() {
    shutdown(true, false);
    ::close(wake_fd_);
  }

  // Fast path: with nothing queued and a worker idle, the submitting thread sends the
  // task itself (one hop less than going through the dispatcher).
  void submit(FutureStateBase* s, std::uintptr_t invoker, std::uintptr_t fn, std::string args,
              ResultDeliverer deliver) {
    Pending p{0, s, code_ref(invoker), code_ref(fn), std::move(args), deliver, false};
    bool need_wake = true;
    {
      std::scoped_lock hold(mu_);
      if (shutdown_) throw RuntimeError("cannot schedule new futures after shutdown");
      if (!broken_.empty()) throw BrokenProcessPool(broken_);
      p.id = ++next_id_;
      if (!dispatcher_.joinable()) dispatcher_ = std::thread([this] { dispatch(); });
      if (pending_.empty() && !idle_.empty()) {
        Worker* w = idle_.back();
        idle_.pop_back();
        p.claimed = s->try_claim();  // a fresh state: nobody else can have it yet
        need_wake = !send_task_locked(*w, std::move(p));
      } else {
        pending_.push_back(std::move(p));
      }
    }
    if (need_wake) wake();
  }

  void shutdown(bool wait, bool cancel_futures) {
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
    if (!wait) return;
    std::scoped_lock joining(join_mu_);
    if (dispatcher_.joinable() && dispatcher_.get_id() != std::this_thread::get_id())
      dispatcher_.join();
  }

 private:
  struct Pending {
    std::uint64_t id;
    FutureStateBase* s;
    CodeRef invoker, fn;
    std::string args;
    ResultDeliverer deliver;
    bool claimed;  // already moved to running (a retry after a failed send)
  };
  struct Worker {
    pid_t pid = -1;
    int fd = -1;                    // closed (-1) only by the dispatcher, under mu_
    std::optional<Pending> current;  // under mu_
    std::uint64_t served = 0;       // dispatcher only
    bool retiring = false;          // under mu_: reached max_tasks_per_child
    std::string in;                 // dispatcher only
  };

  void wake() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
  }

  // Under mu_: sends p to the idle worker w. On failure (the worker is gone) the task,
  // which did not run, goes back to the front of the queue; returns false.
  bool send_task_locked(Worker& w, Pending p) {
    WireWriter m;
    m.write('T');
    m.write(p.id);
    m.write(p.invoker);
    m.write(p.fn);
    m.raw(p.args.data(), p.args.size());
    if (w.fd < 0 || !send_message(w.fd, m.buffer())) {
      p.claimed = true;
      pending_.push_front(std::move(p));
      w.retiring = true;  // never picked again; the poll loop reaps it
      return false;
    }
    w.current = std::move(p);
    return true;
  }

  // Starts one worker (outside mu_); false if the program cannot be spawned.
  bool spawn_worker() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      break_pool(std::string("cannot create a worker socket: ") + std::strerror(errno));
      return false;
    }
    int child_end = sv[1];
    if (child_end == kWorkerFd) {  // dup2(fd, fd) would keep close-on-exec
      child_end = ::fcntl(sv[1], F_DUPFD_CLOEXEC, kWorkerFd + 1);
      ::close(sv[1]);
    }
    std::vector<char*> envp;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      if (std::strncmp(*e, kWorkerEnv, std::strlen(kWorkerEnv)) == 0 &&
          (*e)[std::strlen(kWorkerEnv)] == '=')
        continue;
      envp.push_back(*e);
    }
    std::string marker = std::string(kWorkerEnv) + "=" + std::to_string(kWorkerFd);
    envp.push_back(marker.data());
    envp.push_back(nullptr);
    char arg0[] = "weft-process-worker";
    char* argv[] = {arg0, nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, child_end, kWorkerFd);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(child_end);
    if (rc != 0) {
      ::close(sv[0]);
      break_pool(std::string("cannot start a worker process: ") + std::strerror(rc));
      return false;
    }
    auto w = std::make_unique<Worker>();
    w->pid = pid;
    w->fd = sv[0];
    WireWriter hello;
    hello.write('H');
    hello.write(static_cast<std::uint64_t>(options_.max_tasks_per_child));
    hello.write(static_cast<std::uint8_t>(options_.initializer != nullptr));
    if (options_.initializer != nullptr) hello.write(init_ref_);
    send_message(w->fd, hello.buffer());  // a failure shows up as EOF in the poll loop
    std::scoped_lock hold(mu_);
    idle_.push_back(w.get());
    workers_.push_back(std::move(w));
    return true;
  }

  // Fails every queued task and every later submit (an initializer failed, or the
  // program cannot be spawned).
  void break_pool(const std::string& why) {
    std::deque<Pending> failed;
    {
      std::scoped_lock hold(mu_);
      if (broken_.empty()) broken_ = why;
      failed.swap(pending_);
    }
    for (Pending& p : failed) {
      if (p.claimed || p.s->try_claim())
        p.s->finish_with(std::make_exception_ptr(BrokenProcessPool(why)));
      p.s->release();
    }
  }

  static void fail(Pending& p, const std::string& why) {
    p.s->finish_with(std::make_exception_ptr(BrokenProcessPool(why)));
    p.s->release();
  }

  // Hands queued tasks to idle workers and starts workers while work waits.
  void assign() {
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
            std::size_t live = 0;
            for (auto& w : workers_) live += (w->fd >= 0 && !w->retiring) ? 1 : 0;
            spawn = live < max_workers_ && workers_.size() < 2 * max_workers_;
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
          send_task_locked(*w, std::move(p));
        }
      }
      for (Pending& p : dropped) p.s->release();
      if (!spawn || !spawn_worker()) return;
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
        w.retiring = true;
      }
      if (p) fail(*p, why);
      return;
    }
    const std::uint64_t id = r.read<std::uint64_t>();
    Pending p;
    {
      std::scoped_lock hold(mu_);
      if (!w.current || w.current->id != id) return;  // one task per worker: not reached
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

  // The worker's socket closed: reap it; fail its task if it had one.
  void on_eof(Worker& w) {
    int status = 0;
    while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::optional<Pending> p;
    {
      std::scoped_lock hold(mu_);
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
    const ssize_t k = ::recv(w.fd, buf, sizeof buf, 0);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) return;
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

  bool finished() {
    std::scoped_lock hold(mu_);
    if (!shutdown_ || !pending_.empty()) return false;
    for (auto& w : workers_)
      if (w->fd >= 0 && w->current) return false;
    return true;
  }

  void dispatch() {
    std::vector<pollfd> fds;
    std::vector<Worker*> polled;
    for (;;) {
      assign();
      {
        std::scoped_lock hold(mu_);
        std::erase_if(workers_, [](const std::unique_ptr<Worker>& w) { return w->fd < 0; });
        polled.clear();
        for (auto& w : workers_) polled.push_back(w.get());
      }
      if (finished()) break;
      fds.clear();
      fds.push_back(pollfd{wake_fd_, POLLIN, 0});
      for (Worker* w : polled) fds.push_back(pollfd{w->fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
      if ((fds[0].revents & POLLIN) != 0) {
        std::uint64_t n;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_, &n, sizeof n);
      }
      // Only this thread erases workers, so every polled one is still there.
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents != 0) read_from(*polled[i - 1]);
      }
    }
    // Shut down: closing the write side tells each worker to exit.
    std::vector<Worker*> left;
    {
      std::scoped_lock hold(mu_);
      idle_.clear();
      for (auto& w : workers_) left.push_back(w.get());
    }
    for (Worker* w : left) ::shutdown(w->fd, SHUT_WR);
    for (Worker* w : left) {
      char buf[4096];
      while (::recv(w->fd, buf, sizeof buf, 0) > 0) {
      }
      on_eof(*w);
    }
    std::scoped_lock hold(mu_);
    workers_.clear();
  }

  const std::size_t max_workers_;
  const ProcessPoolOptions options_;
  CodeRef init_ref_;
  int wake_fd_ = -1;

  std::mutex mu_;  // guards the fields below, each Worker's current/retiring/fd closing
  std::deque<Pending> pending_;
  std::vector<Worker*> idle_;                     // live workers with no task
  std::vector<std::unique_ptr<Worker>> workers_;  // erased only by the dispatcher
  bool shutdown_ = false;
  std::string broken_;
  std::uint64_t next_id_ = 0;
  std::thread dispatcher_;
  std::mutex join_mu_;
};

ProcessPoolCore* make_process_pool(std::size_t max_workers, ProcessPoolOptions options) {
  return new ProcessPoolCore(max_workers, options);
}
void destroy_process_pool(ProcessPoolCore* core) noexcept { delete core; }
void process_submit(ProcessPoolCore* core, FutureStateBase* s, std::uintptr_t invoker,
                    std::uintptr_t fn, std::string args, ResultDeliverer deliver) {
  core->submit(s, invoker, fn, std::move(args), deliver);
}
void process_shutdown(ProcessPoolCore* core, bool wait, bool cancel_futures) {
  core->shutdown(wait, cancel_futures);
}

}  // namespace detail
}  // namespace weft
