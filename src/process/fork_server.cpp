// SPDX-License-Identifier: Apache-2.0
// src/process/fork_server.cpp: the fork server that starts a process pool's workers, and
// the requests a pool sends it (see fork_server.hpp).
#include "process/fork_server.hpp"

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "process/code_ref.hpp"
#include "process/worker.hpp"

namespace weft::detail {
namespace {

// The fork server of one process. A forked child of that process gets a new one: it
// never touches the inherited object (whose mutex may have been copied locked), and
// keeps the inherited descriptor (close-on-exec) until it exits.
struct ForkServer {
  const pid_t owner = ::getpid();
  std::mutex mu;    // one request at a time; guards the fields below
  int fd = -1;      // our end of the server's socket; -1: not running
  pid_t pid = -1;   // the server process
  uid_t uid = 0;    // this process's effective user and group when it started the server
  gid_t gid = 0;
  bool unusable = false;  // the server refused to clone: workers are exec'd from now on
  bool proven = false;    // the running server cloned a worker: requests do not wait for it
  std::uint64_t sent = 0;      // requests sent (to every server of this process), numbered 1..
  std::uint64_t answered = 0;  // requests answered, or given up on when their server went away
  std::vector<std::pair<std::uint64_t, int>> unclaimed;  // answers nobody has asked for yet
};
std::atomic<ForkServer*> the_server{nullptr};

// A request's message: one tag byte with room for one attached descriptor.
struct OneFdMessage {
  char tag = 0;
  iovec iov{&tag, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  OneFdMessage() {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  OneFdMessage(const OneFdMessage&) = delete;
  OneFdMessage& operator=(const OneFdMessage&) = delete;
};

// This process's fork server (not running yet when new); null without memory.
ForkServer* own_server() noexcept {
  ForkServer* s = the_server.load(std::memory_order_acquire);
  if (s != nullptr && s->owner == ::getpid()) return s;
  auto* fresh = new (std::nothrow) ForkServer();
  if (fresh == nullptr) return nullptr;
  if (the_server.compare_exchange_strong(s, fresh, std::memory_order_acq_rel)) return fresh;
  delete fresh;  // another thread of this process installed one first
  return s;
}

// Under s.mu: keeps the answer to request `seq` until worker_process_pid() asks for it.
// Without memory it is lost, and that worker's pid reads as unknown (0).
void note_answer_locked(ForkServer& s, std::uint64_t seq, int answer) noexcept {
  try {
    s.unclaimed.emplace_back(seq, answer);
  } catch (const std::bad_alloc&) {
  }
}

// Under s.mu.
void kill_server_locked(ForkServer& s) noexcept {
  if (s.fd < 0) return;
  ::close(s.fd);
  s.fd = -1;
  ::kill(s.pid, SIGKILL);
  while (::waitpid(s.pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  s.pid = -1;
  s.proven = false;
  for (std::uint64_t seq = s.answered + 1; seq <= s.sent; ++seq) note_answer_locked(s, seq, 0);
  s.answered = s.sent;  // the server is gone: its unanswered requests read as 0
}

// Under s.mu: reads the server's next answer. False when the server is gone (it died, or
// sent something else), which kill_server_locked() then records.
bool read_answer_locked(ForkServer& s) noexcept {
  std::int32_t reply = 0;
  ssize_t k;
  while ((k = ::recv(s.fd, &reply, sizeof reply, 0)) < 0 && errno == EINTR) {
  }
  if (k != static_cast<ssize_t>(sizeof reply) || reply == 0) {
    kill_server_locked(s);
    return false;
  }
  note_answer_locked(s, ++s.answered, reply);
  return true;
}

// Under s.mu: the answer to request `seq` (waiting for it): a pid, -errno, or 0 when the
// server went away first.
int claim_answer_locked(ForkServer& s, std::uint64_t seq) noexcept {
  while (s.answered < seq && s.fd >= 0) read_answer_locked(s);
  for (auto it = s.unclaimed.begin(); it != s.unclaimed.end(); ++it) {
    if (it->first != seq) continue;
    const int answer = it->second;
    s.unclaimed.erase(it);
    return answer;
  }
  return 0;
}

// Under s.mu: stops the server once it has answered every request (each is a worker or
// an error its pool must learn).
void stop_server_locked(ForkServer& s) noexcept {
  while (s.fd >= 0 && s.answered < s.sent) read_answer_locked(s);
  kill_server_locked(s);
}

// Under s.mu. Returns 0 or -errno.
int start_server_locked(ForkServer& s) noexcept {
  std::vector<char*> envp;
  std::string marker;
  // Bound at start-up, symbols are bound once for every clone (unless the program chose).
  const bool bind_now = std::getenv("LD_BIND_NOW") == nullptr;
  static char bind_now_entry[] = "LD_BIND_NOW=1";
  try {
    envp = worker_environment(marker, bind_now ? kForkServerBindNowMarker : kForkServerMarker);
    if (bind_now) envp.insert(envp.end() - 1, bind_now_entry);
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return -errno;
  const int pid = spawn_program(sv[1], envp.data());
  ::close(sv[1]);
  if (pid < 0) {
    ::close(sv[0]);
    return pid;
  }
  s.fd = sv[0];
  s.pid = pid;
  s.uid = ::geteuid();
  s.gid = ::getegid();
  return 0;
}

// Under s.mu: sends one request; its number, or 0 when the server is gone (it died, or
// was killed).
std::uint64_t request_locked(ForkServer& s, int child_end) noexcept {
  OneFdMessage m;
  m.tag = 'F';
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &child_end, sizeof(int));
  ssize_t k;
  while ((k = ::sendmsg(s.fd, &m.msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  if (k != 1) return 0;
  return ++s.sent;
}

// Whether this process has one thread (a clone copies only the calling thread: with
// others, a lock one of them holds could be copied locked).
bool single_threaded() noexcept {
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return false;
  int threads = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++threads;
  ::closedir(d);
  return threads == 1;
}

// The server's side of a request: clones this process with the program as the parent;
// the clone serves `worker_fd`. Returns the clone's pid or -errno.
int clone_worker(int server_fd, int worker_fd) noexcept {
  // A raw clone: glibc's fork() takes no flags. The clone runs on a copy of this stack,
  // as a fork's child does, in a process that had a single thread. What glibc's fork()
  // would also do is skipped: no atfork handlers run (this process holds no lock and has
  // run no weft code), and the thread descriptor keeps the server's cached thread id,
  // which only priority-inheritance and robust mutexes would notice (the worker's own
  // threads get theirs; raise() and abort() ask the kernel).
  const long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) {
    ::close(server_fd);
    run_worker(worker_fd);
  }
  return pid > 0 ? static_cast<int>(pid) : -errno;
}

}  // namespace

WorkerStart start_worker_process(int child_end, char** envp) noexcept {
  if (ForkServer* s = own_server()) {
    std::scoped_lock hold(s->mu);
    if (s->fd >= 0 && (s->uid != ::geteuid() || s->gid != ::getegid()))
      stop_server_locked(*s);  // its workers would run as the old user
    for (int attempt = 0; attempt < 2 && !s->unusable; ++attempt) {
      if (s->fd < 0 && start_server_locked(*s) != 0) break;
      const std::uint64_t seq = request_locked(*s, child_end);
      if (seq == 0) {  // gone: a new one is tried
        kill_server_locked(*s);
        continue;
      }
      if (s->proven) return {0, seq};  // answered later, through worker_process_pid()
      const int rc = claim_answer_locked(*s, seq);
      if (rc > 0) s->proven = true;
      if (rc > 0 || rc == -EAGAIN || rc == -ENOMEM) return {rc, 0};
      stop_server_locked(*s);  // gone (a new one is tried), or it cannot clone
      s->unusable = rc == -ENOTSUP;
      if (rc < 0) break;  // this worker is exec'd
    }
  }
  return {spawn_program(child_end, envp), 0};
}

int worker_process_pid(std::uint64_t request) noexcept {
  ForkServer* s = the_server.load(std::memory_order_acquire);
  if (s == nullptr || s->owner != ::getpid()) return 0;
  std::scoped_lock hold(s->mu);
  return claim_answer_locked(*s, request);
}

[[noreturn]] void run_fork_server(int fd) {
  // A static initialiser of the program started a thread: cloning is not safe here.
  const int refusal = single_threaded() ? 0 : -ENOTSUP;
  remember_loaded_modules();
  for (;;) {
    OneFdMessage m;
    const ssize_t k = ::recvmsg(fd, &m.msg, MSG_CMSG_CLOEXEC);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) ::_exit(0);  // the program is gone
    int worker_fd = -1;
    if (cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
        c != nullptr && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      std::memcpy(&worker_fd, CMSG_DATA(c), sizeof(int));
    std::int32_t reply = -EINVAL;
    if (m.tag == 'F' && worker_fd >= 0) {
      reply = refusal != 0 ? refusal : clone_worker(fd, worker_fd);
      ::close(worker_fd);
    }
    if (::send(fd, &reply, sizeof reply, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof reply))
      ::_exit(0);
  }
}

}  // namespace weft::detail
