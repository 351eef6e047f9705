// SPDX-License-Identifier: Apache-2.0
// dist/redis.hpp: weft::dist's connection to a Redis server (hiredis 0.14, synchronous API).
//
// Endpoint: a parsed URL. Connection: one hiredis context, used by one thread at a time;
// dead after any error and replaced by a fresh one on next use. ConnectionPool: hands
// connections to threads (a borrowed connection goes back when its Lease ends), so every
// object that talks to the server is thread-safe without sharing a context.
//
// Budget: connecting and every command wait at most Endpoint::timeout; a blocking command
// waits its block time plus that budget. Past it, ConnectionError; a call never hangs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;
struct redisReply;

namespace weft::dist::detail {

// Where the server is and which queue / executor on it. Accepted forms (docs/distributed.md):
//   redis://[:PASSWORD@]HOST:PORT/NAME[?timeout=MS]
//   redis+unix://[:PASSWORD@]/ABSOLUTE/PATH/TO/SOCKET?name=NAME[&timeout=MS]
struct Endpoint {
  std::string host;        // empty for a unix socket
  int port = 0;
  std::string unix_path;   // empty for TCP
  std::string password;
  std::string name;
  std::chrono::milliseconds timeout{5000};
  std::string url;         // as given (without the password), for messages
};
// Throws ValueError on a malformed URL.
Endpoint parse_url(std::string_view url);

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept;
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;
struct ContextDeleter {
  void operator()(redisContext* c) const noexcept;
};

// Read-only views of a reply (valid while the Reply lives).
bool is_nil(const redisReply* r) noexcept;
bool is_error(const redisReply* r) noexcept;
bool is_array(const redisReply* r) noexcept;
std::size_t array_size(const redisReply* r) noexcept;
const redisReply* element(const redisReply* r, std::size_t i);  // RuntimeError if absent
std::string_view text(const redisReply* r);   // a string, status or error reply
std::int64_t integer(const redisReply* r);    // an integer reply (or a numeric string)

using Args = std::vector<std::string_view>;

class Connection {
 public:
  explicit Connection(const Endpoint& ep);  // connects, authenticates, PINGs; ConnectionError
  ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One command; waits at most the budget plus `extra` (a blocking command's block time).
  // Throws ConnectionError on any transport or protocol failure (the connection is then
  // dead); an error reply is returned, not thrown.
  Reply command(const Args& args, std::chrono::milliseconds extra = std::chrono::milliseconds(0));
  // Several commands in one round trip; the replies in order.
  std::vector<Reply> pipeline(const std::vector<Args>& commands);
  // As command(), but an error reply throws RuntimeError with its text.
  Reply checked(const Args& args, std::chrono::milliseconds extra = std::chrono::milliseconds(0));

  bool dead() const noexcept { return dead_; }
  // False if the server closed the socket (or sent something unasked) since the last
  // command: the connection must not be reused.
  bool looks_alive() const noexcept;

 private:
  [[noreturn]] void fail(const char* what);
  void set_timeout(std::chrono::milliseconds t);

  const Endpoint ep_;
  std::unique_ptr<redisContext, ContextDeleter> ctx_;  // freed also when the constructor throws
  std::chrono::milliseconds current_timeout_{-1};
  bool dead_ = false;
};

// Connections for any number of threads; each thread borrows one for a call or a batch.
class ConnectionPool {
 public:
  explicit ConnectionPool(std::string_view url) : ep_(parse_url(url)) {}
  const Endpoint& endpoint() const noexcept { return ep_; }

  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&& other) noexcept = default;
    ~Lease() { pool_.give_back(std::move(c_)); }
    Connection* operator->() const noexcept { return c_.get(); }
    Connection& operator*() const noexcept { return *c_; }

   private:
    ConnectionPool& pool_;
    std::unique_ptr<Connection> c_;
  };
  // A live connection (new one if none idle). Throws ConnectionError.
  Lease borrow();
  // Convenience: one command on a borrowed connection.
  Reply command(const Args& args, std::chrono::milliseconds extra = std::chrono::milliseconds(0)) {
    return borrow()->command(args, extra);
  }
  Reply checked(const Args& args, std::chrono::milliseconds extra = std::chrono::milliseconds(0)) {
    return borrow()->checked(args, extra);
  }

 private:
  void give_back(std::unique_ptr<Connection> c) noexcept;

  Endpoint ep_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// A Lua script, sent with EVAL (the server caches its compiled form). An error reply
// throws RuntimeError.
class Script {
 public:
  explicit Script(std::string body);
  Reply run(Connection& c, const Args& keys, const Args& args) const;

 private:
  std::string body_;
};

// Keys of one object: "weft:" KIND ":{" NAME "}:" PART (the braces keep all keys of an
// object in one Redis Cluster slot).
std::string key(std::string_view kind, std::string_view name, std::string_view part);

// A random 64-bit value (per process, seeded from the OS) as 16 hex digits.
std::string random_hex();

}  // namespace weft::dist::detail
