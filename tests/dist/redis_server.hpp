// SPDX-License-Identifier: Apache-2.0
// A private redis-server for one test: a unix socket in a temporary directory (never a
// fixed port), append-only file with fsync on every write, no RDB snapshots. start()
// returns once the server answers PING; kill9()/start() restart it on the same
// directory; pause()/resume() send SIGSTOP/SIGCONT. The destructor kills it and removes
// the directory. Tests call WEFT_REQUIRE_REDIS() first: it skips them with a message when
// redis-server is not installed.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dist/redis.hpp"
#include "weft/dist.hpp"

extern char** environ;

namespace weft_test {

// The path of program `name` on PATH, or "" if it is not installed.
inline std::string program_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}
inline std::string redis_server_path() { return program_path("redis-server"); }

#define WEFT_REQUIRE_REDIS()                                                              \
  do {                                                                                    \
    if (::weft_test::redis_server_path().empty())                                         \
      GTEST_SKIP() << "redis-server is not installed (Debian: apt-get install redis-server)"; \
  } while (0)

class RedisServer {
 public:
  struct Options {
    std::string password;  // --requirepass when not empty
  };

  explicit RedisServer(Options options = {}) : options_(std::move(options)) {
    char tmpl[] = "/tmp/weft-redis-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    start();
  }
  ~RedisServer() {
    kill9();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  const std::string& dir() const { return dir_; }
  std::string socket() const { return dir_ + "/redis.sock"; }
  pid_t pid() const { return pid_; }

  // The URL of object `name` on this server (timeout: the connection budget, ms).
  std::string url(const std::string& name, int timeout_ms = 5000) const {
    std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
    return "redis+unix://" + auth + socket() + "?name=" + name + "&timeout=" + std::to_string(timeout_ms);
  }

  // The server's stdout and stderr go to a file in its directory, not to this process's
  // (a test runner's pipe). Where util-linux's setpriv is installed the server also dies
  // with the thread that started it, so a killed test leaves no server behind.
  void start() {
    const std::string exe = redis_server_path();
    std::vector<std::string> args{exe,           "--port",        "0",       "--unixsocket", socket(),
                                  "--unixsocketperm", "700",      "--dir",   dir_,           "--appendonly",
                                  "yes",         "--appendfsync", "always",  "--save",       "",
                                  "--daemonize", "no",            "--logfile", dir_ + "/redis.log"};
    if (!options_.password.empty()) {
      args.push_back("--requirepass");
      args.push_back(options_.password);
    }
    if (const std::string setpriv = program_path("setpriv"); !setpriv.empty())
      args.insert(args.begin(), {setpriv, "--pdeathsig", "KILL", "--"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    const std::string output = dir_ + "/redis.out";
    posix_spawn_file_actions_addopen(&files, 1, output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    const int error = ::posix_spawn(&pid_, argv[0], &files, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    if (error != 0) throw std::runtime_error("cannot start redis-server");
    wait_ready();
  }

  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    std::error_code ec;
    std::filesystem::remove(socket(), ec);
  }
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

  std::vector<std::string> keys(const std::string& pattern) {
    weft::dist::detail::Endpoint ep = endpoint();
    weft::dist::detail::Connection c(ep);
    weft::dist::detail::Reply r = c.checked({"KEYS", pattern});
    std::vector<std::string> out;
    for (std::size_t i = 0; i < weft::dist::detail::array_size(r.get()); ++i)
      out.emplace_back(weft::dist::detail::text(weft::dist::detail::element(r.get(), i)));
    return out;
  }
  weft::dist::detail::Endpoint endpoint() const { return weft::dist::detail::parse_url(url("x")); }

 private:
  // Waits until the server answers PING (or fails with its log if it exited).
  void wait_ready() {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    const weft::dist::detail::Endpoint ep = weft::dist::detail::parse_url(url("x", 1000));
    for (;;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        std::stringstream text;
        for (const char* file : {"/redis.out", "/redis.log"}) {
          std::ifstream in(dir_ + file);
          if (in) text << in.rdbuf();
          text.clear();  // an empty file sets failbit
        }
        throw std::runtime_error("redis-server exited at start:\n" + text.str());
      }
      if (::access(socket().c_str(), F_OK) == 0) {
        try {
          weft::dist::detail::Connection c(ep);
          return;  // it answered PING (the constructor checks)
        } catch (const weft::dist::ConnectionError&) {
          // still loading the append-only file
        }
      }
      if (std::chrono::steady_clock::now() > give_up) throw std::runtime_error("redis-server did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  Options options_;
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace weft_test
