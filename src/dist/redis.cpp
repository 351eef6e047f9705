// SPDX-License-Identifier: Apache-2.0
#include "dist/redis.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <charconv>
#include <cstring>
#include <random>

#include "weft/dist.hpp"

namespace weft::dist::detail {

namespace {

int parse_int(std::string_view s, std::string_view what, std::string_view url) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0)
    throw ValueError("weft::dist: bad " + std::string(what) + " in URL '" + std::string(url) + "'");
  return v;
}

// Applies "key=value&..." query parameters.
void parse_query(std::string_view q, Endpoint& ep, std::string_view url) {
  while (!q.empty()) {
    const std::size_t amp = q.find('&');
    const std::string_view kv = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    const std::size_t eq = kv.find('=');
    if (eq == std::string_view::npos)
      throw ValueError("weft::dist: bad query parameter in URL '" + std::string(url) + "'");
    const std::string_view k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if (k == "name") {
      ep.name = std::string(v);
    } else if (k == "timeout") {
      ep.timeout = std::chrono::milliseconds(parse_int(v, "timeout", url));
      if (ep.timeout.count() == 0) throw ValueError("weft::dist: timeout=0 in URL '" + std::string(url) + "'");
    } else {
      throw ValueError("weft::dist: unknown URL parameter '" + std::string(k) + "' in '" +
                       std::string(url) + "'");
    }
  }
}

timeval to_timeval(std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  return tv;
}

}  // namespace

Endpoint parse_url(std::string_view url) {
  Endpoint ep;
  auto bad = [&](const char* why) {
    throw ValueError(std::string("weft::dist: ") + why + " in URL '" + std::string(url) +
                     "' (expected redis://[:PASSWORD@]HOST:PORT/NAME or "
                     "redis+unix://[:PASSWORD@]/PATH/TO/SOCKET?name=NAME)");
  };
  std::string_view rest;
  bool unix_socket = false;
  if (url.starts_with("redis://")) {
    rest = url.substr(8);
  } else if (url.starts_with("redis+unix://")) {
    rest = url.substr(13);
    unix_socket = true;
  } else {
    bad("unknown scheme");
  }
  std::string_view query;
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  // Optional ":PASSWORD@" (a user name before the colon is not supported by Redis 7's AUTH
  // with one argument; it is ignored).
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) bad("user info without ':PASSWORD'");
    ep.password = std::string(userinfo.substr(colon + 1));
    rest = rest.substr(at + 1);
  }
  if (unix_socket) {
    if (!rest.starts_with('/')) bad("the socket path must be absolute");
    ep.unix_path = std::string(rest);
  } else {
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) bad("no /NAME");
    const std::string_view hostport = rest.substr(0, slash);
    ep.name = std::string(rest.substr(slash + 1));
    const std::size_t colon = hostport.rfind(':');
    if (colon == std::string_view::npos) {
      ep.host = std::string(hostport);
      ep.port = 6379;
    } else {
      ep.host = std::string(hostport.substr(0, colon));
      ep.port = parse_int(hostport.substr(colon + 1), "port", url);
      if (ep.port == 0 || ep.port > 65535) bad("port out of range");
    }
    if (ep.host.empty()) bad("no host");
  }
  parse_query(query, ep, url);
  if (ep.name.empty()) bad("no NAME");
  for (char c : ep.name)
    if (c == '{' || c == '}' || static_cast<unsigned char>(c) <= ' ') bad("NAME may not hold braces or spaces");
  ep.url = unix_socket ? "redis+unix://" + ep.unix_path + "?name=" + ep.name
                       : "redis://" + ep.host + ":" + std::to_string(ep.port) + "/" + ep.name;
  return ep;
}

void ReplyDeleter::operator()(redisReply* r) const noexcept { freeReplyObject(r); }
void ContextDeleter::operator()(redisContext* c) const noexcept { redisFree(c); }

bool is_nil(const redisReply* r) noexcept { return r == nullptr || r->type == REDIS_REPLY_NIL; }
bool is_error(const redisReply* r) noexcept { return r != nullptr && r->type == REDIS_REPLY_ERROR; }
bool is_array(const redisReply* r) noexcept { return r != nullptr && r->type == REDIS_REPLY_ARRAY; }
std::size_t array_size(const redisReply* r) noexcept { return is_array(r) ? r->elements : 0; }

const redisReply* element(const redisReply* r, std::size_t i) {
  if (!is_array(r) || i >= r->elements) throw RuntimeError("weft::dist: unexpected reply shape from the server");
  return r->element[i];
}

std::string_view text(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS &&
                       r->type != REDIS_REPLY_ERROR))
    throw RuntimeError("weft::dist: expected a string reply from the server");
  return {r->str, r->len};
}

std::int64_t integer(const redisReply* r) {
  if (r != nullptr && r->type == REDIS_REPLY_INTEGER) return r->integer;
  const std::string_view s = text(r);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    throw RuntimeError("weft::dist: expected an integer reply from the server");
  return v;
}

Connection::Connection(const Endpoint& ep) : ep_(ep) {
  const timeval tv = to_timeval(ep.timeout);
  ctx_.reset(ep.unix_path.empty() ? redisConnectWithTimeout(ep.host.c_str(), ep.port, tv)
                                   : redisConnectUnixWithTimeout(ep.unix_path.c_str(), tv));
  if (ctx_ == nullptr) throw ConnectionError("weft::dist: cannot connect to " + ep.url + ": out of memory");
  if (ctx_->err != 0) fail("cannot connect to");
  set_timeout(ep.timeout);
  if (!ep.password.empty()) {
    Reply r = command({"AUTH", ep.password});
    if (is_error(r.get())) {
      dead_ = true;
      throw ConnectionError("weft::dist: " + ep.url + " refused the password: " + std::string(text(r.get())));
    }
  }
  Reply r = command({"PING"});
  if (is_error(r.get())) {
    dead_ = true;
    const std::string_view msg = text(r.get());
    throw ConnectionError("weft::dist: " + ep.url +
                          (msg.starts_with("NOAUTH") ? " needs a password (redis://:PASSWORD@...): "
                                                     : " answered PING with an error: ") +
                          std::string(msg));
  }
  if (r->type != REDIS_REPLY_STATUS || text(r.get()) != "PONG") {
    dead_ = true;
    throw ConnectionError("weft::dist: " + ep.url + " is not a Redis server (bad PING answer)");
  }
}

void Connection::fail(const char* what) {
  dead_ = true;
  std::string msg = "weft::dist: ";
  msg += what;
  msg += " " + ep_.url + ": ";
  if (ctx_ != nullptr && ctx_->err == REDIS_ERR_PROTOCOL) {
    msg += "not a Redis server? (protocol error: ";
    msg += ctx_->errstr;
    msg += ")";
  } else if (ctx_ != nullptr && ctx_->err == REDIS_ERR_IO &&
             (std::strstr(ctx_->errstr, "temporarily unavailable") != nullptr ||
              std::strstr(ctx_->errstr, "timed out") != nullptr)) {
    msg += "no answer within the connection budget (" + std::to_string(ep_.timeout.count()) + " ms)";
  } else if (ctx_ != nullptr && ctx_->err == REDIS_ERR_EOF) {
    msg += "the server closed the connection";
  } else if (ctx_ != nullptr) {
    msg += ctx_->errstr;
  }
  throw ConnectionError(msg);
}

void Connection::set_timeout(std::chrono::milliseconds t) {
  if (t == current_timeout_) return;
  if (redisSetTimeout(ctx_.get(), to_timeval(t)) != REDIS_OK) fail("cannot set a timeout on");
  current_timeout_ = t;
}

bool Connection::looks_alive() const noexcept {
  if (dead_ || ctx_ == nullptr) return false;
  pollfd p{ctx_->fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;  // readable: EOF, reset, or an unasked message
}

Reply Connection::command(const Args& args, std::chrono::milliseconds extra) {
  if (dead_) throw ConnectionError("weft::dist: connection to " + ep_.url + " is closed");
  set_timeout(ep_.timeout + extra);
  std::vector<const char*> argv(args.size());
  std::vector<std::size_t> lens(args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lens[i] = args[i].size();
  }
  void* r = redisCommandArgv(ctx_.get(), static_cast<int>(args.size()), argv.data(), lens.data());
  if (r == nullptr) fail("lost");
  return Reply(static_cast<redisReply*>(r));
}

std::vector<Reply> Connection::pipeline(const std::vector<Args>& commands) {
  if (dead_) throw ConnectionError("weft::dist: connection to " + ep_.url + " is closed");
  set_timeout(ep_.timeout);
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const Args& args : commands) {
    argv.resize(args.size());
    lens.resize(args.size());
    for (std::size_t i = 0; i < args.size(); ++i) {
      argv[i] = args[i].data();
      lens[i] = args[i].size();
    }
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(args.size()), argv.data(), lens.data()) != REDIS_OK)
      fail("lost");
  }
  std::vector<Reply> out;
  out.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* r = nullptr;
    if (redisGetReply(ctx_.get(), &r) != REDIS_OK || r == nullptr) fail("lost");
    out.emplace_back(static_cast<redisReply*>(r));
  }
  return out;
}

Reply Connection::checked(const Args& args, std::chrono::milliseconds extra) {
  Reply r = command(args, extra);
  if (is_error(r.get()))
    throw RuntimeError("weft::dist: " + std::string(args.empty() ? "" : args[0]) + " failed on " +
                       ep_.url + ": " + std::string(text(r.get())));
  return r;
}

ConnectionPool::Lease ConnectionPool::borrow() {
  {
    std::scoped_lock hold(mu_);
    while (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      if (c->looks_alive()) return Lease(*this, std::move(c));
    }
  }
  return Lease(*this, std::make_unique<Connection>(ep_));
}

void ConnectionPool::give_back(std::unique_ptr<Connection> c) noexcept {
  if (c == nullptr || c->dead()) return;
  std::scoped_lock hold(mu_);
  if (idle_.size() < 16) idle_.push_back(std::move(c));
}

Script::Script(std::string body) : body_(std::move(body)) {}

Reply Script::run(Connection& c, const Args& keys, const Args& args) const {
  const std::string nkeys = std::to_string(keys.size());
  Args argv{"EVAL", body_, nkeys};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  // EVAL caches the script on the server; its body is small next to a round trip.
  Reply r = c.command(argv);
  if (is_error(r.get())) throw RuntimeError("weft::dist: a server script failed: " + std::string(text(r.get())));
  return r;
}

std::string key(std::string_view kind, std::string_view name, std::string_view part) {
  std::string k = "weft:";
  k += kind;
  k += ":{";
  k += name;
  k += "}:";
  k += part;
  return k;
}

std::string random_hex() {
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::uint64_t v = gen();
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 15];
  return s;
}

}  // namespace weft::dist::detail
