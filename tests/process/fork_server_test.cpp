// SPDX-License-Identifier: Apache-2.0
// Workers start as clones of the program's fork server, not as new executions of the
// program, and a fork server that died is replaced. The marker weft puts in the
// environment of the process it starts shows which one a worker is: a clone shares the
// fork server's initial environment block (/proc/PID/environ), an exec'd worker has its own.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "process/worker_functions.hpp"
#include "weft/event.hpp"
#include "weft/process.hpp"

namespace {

using weft::ProcessPoolExecutor;

// The start of the entry weft puts in a fork server's environment.
constexpr const char* kServerMarker = "WEFT_PROCESS_WORKER=fork-server";

std::string read_file(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t k;
  while ((k = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(k));
  ::close(fd);
  return out;
}

// The initial environment block of process `pid`, entries separated by NUL.
std::string environ_of(pid_t pid) { return read_file("/proc/" + std::to_string(pid) + "/environ"); }

// Whether an entry of the environment block starts with `prefix`.
bool has_entry(const std::string& block, const char* prefix) {
  const std::string p(prefix);
  return block.compare(0, p.size(), p) == 0 || block.find('\0' + p) != std::string::npos;
}

// In a worker: its pid, negated unless it is a clone of the fork server.
int pid_if_cloned_from_the_fork_server() {
  const bool cloned = has_entry(environ_of(::getpid()), kServerMarker);
  return cloned ? ::getpid() : -::getpid();
}

using weft_process_tests::square;

// The live children of this process that run the fork server's loop (clones of it
// excluded: `workers`).
std::set<pid_t> fork_servers(const std::set<pid_t>& workers) {
  std::set<pid_t> out;
  DIR* d = ::opendir("/proc");
  while (dirent* e = d != nullptr ? ::readdir(d) : nullptr) {
    const pid_t pid = std::atoi(e->d_name);
    if (pid <= 0 || workers.contains(pid)) continue;
    const std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close_paren = text.rfind(')');
    if (close_paren == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(text.c_str() + close_paren + 1, " %c %d", &state, &ppid) != 2) continue;
    if (ppid == ::getpid() && state != 'Z' && has_entry(environ_of(pid), kServerMarker))
      out.insert(pid);
  }
  if (d != nullptr) ::closedir(d);
  return out;
}

TEST(ForkServer, WorkersAreClonesOfTheForkServer) {
  ProcessPoolExecutor pool(2);
  std::vector<weft::Future<int>> fs;
  for (int i = 0; i < 4; ++i) fs.push_back(pool.submit(pid_if_cloned_from_the_fork_server));
  for (auto& f : fs) EXPECT_GT(f.result(), 0) << "worker " << -f.result() << " was exec'd";
}

bool worker_has_ld_bind_now() { return std::getenv("LD_BIND_NOW") != nullptr; }

TEST(ForkServer, WorkersSeeTheProgramsEnvironmentWithoutWeftsAdditions) {
  if (std::getenv("LD_BIND_NOW") != nullptr) GTEST_SKIP() << "LD_BIND_NOW is set for the test";
  ProcessPoolExecutor pool(1);
  EXPECT_FALSE(pool.submit(worker_has_ld_bind_now).result())
      << "the LD_BIND_NOW weft gives the fork server leaked into a worker";
}

TEST(ForkServer, OneServerForEveryPoolOfTheProcess) {
  ProcessPoolExecutor a(1), b(1);
  const std::set<pid_t> workers{a.submit(pid_if_cloned_from_the_fork_server).result(),
                                b.submit(pid_if_cloned_from_the_fork_server).result()};
  EXPECT_EQ(fork_servers(workers).size(), 1u);
}

// Runs a task on `warm_up`'s worker, which must be a clone of the fork server: `worker`
// gets its pid and `server` the server's.
void find_the_fork_server(ProcessPoolExecutor& warm_up, pid_t& worker, pid_t& server) {
  worker = warm_up.submit(pid_if_cloned_from_the_fork_server).result();
  ASSERT_GT(worker, 0);
  const std::set<pid_t> servers = fork_servers({worker});
  ASSERT_EQ(servers.size(), 1u);
  server = *servers.begin();
}

TEST(ForkServer, AKilledServerIsReplaced) {
  ProcessPoolExecutor warm_up(1);
  pid_t first_worker = 0, server = 0;
  ASSERT_NO_FATAL_FAILURE(find_the_fork_server(warm_up, first_worker, server));
  ASSERT_EQ(::kill(server, SIGKILL), 0);
  // A new pool's workers start: the dead server is reaped and a new one started.
  ProcessPoolExecutor pool(2);
  std::vector<weft::Future<int>> fs;
  for (int i = 0; i < 4; ++i) fs.push_back(pool.submit(pid_if_cloned_from_the_fork_server));
  std::set<pid_t> workers{first_worker};
  for (auto& f : fs) {
    EXPECT_GT(f.result(), 0);
    workers.insert(f.result());
  }
  const std::set<pid_t> now = fork_servers(workers);
  EXPECT_EQ(now.size(), 1u);
  EXPECT_FALSE(now.contains(server));
  EXPECT_EQ(pool.submit(square, 7).result(), 49);
  EXPECT_EQ(warm_up.submit(square, 8).result(), 64) << "the first pool's worker lives on";
}

// A pool does not wait for the fork server to answer once it has cloned a worker: a
// submit that needs a new worker returns while the server is stopped, and when the server
// dies without serving the request, the task runs on a worker of a new server.
TEST(ForkServer, ASubmitDoesNotWaitForTheServerAndARequestItNeverServesIsRetried) {
  ProcessPoolExecutor warm_up(1);
  pid_t first_worker = 0, server = 0;
  ASSERT_NO_FATAL_FAILURE(find_the_fork_server(warm_up, first_worker, server));
  ProcessPoolExecutor pool(1);
  weft::Event submitted;
  std::optional<weft::Future<int>> f;
  std::thread submitter;
  struct JoinOnExit {
    std::thread& t;
    ~JoinOnExit() {
      if (t.joinable()) t.join();
    }
  } join{submitter};
  ASSERT_EQ(::kill(server, SIGSTOP), 0);
  struct KillOnExit {
    pid_t pid;
    ~KillOnExit() { ::kill(pid, SIGKILL); }  // first: unblocks a submit waiting for it
  } kill_server{server};
  submitter = std::thread([&] {
    f = pool.submit(square, 7);
    submitted.set();
  });
  EXPECT_TRUE(submitted.wait(std::chrono::seconds(60)))
      << "submit waited for the stopped fork server";
  ASSERT_EQ(::kill(server, SIGKILL), 0);
  submitted.wait();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->result(), 49) << "the task runs on a worker of a new fork server";
}

}  // namespace
