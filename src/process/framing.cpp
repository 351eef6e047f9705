// SPDX-License-Identifier: Apache-2.0
// src/process/framing.cpp: length-prefixed messages on a worker's socket.
#include "process/framing.hpp"

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "weft/errors.hpp"

namespace weft::detail {
namespace {

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

}  // namespace

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

bool receive_message(int fd, std::string& body) {
  std::uint32_t len = 0;
  if (!read_all(fd, reinterpret_cast<char*>(&len), sizeof len)) return false;
  body.resize(len);
  return read_all(fd, body.data(), len);
}

std::string framed(std::string message) {
  const std::size_t body = message.size() - sizeof(std::uint32_t);
  if (body > UINT32_MAX) throw ValueError("weft::ProcessPoolExecutor: arguments over 4 GiB");
  const auto len = static_cast<std::uint32_t>(body);
  std::memcpy(message.data(), &len, sizeof len);
  return message;
}

std::optional<std::string_view> next_message(std::string_view in, std::size_t& pos) noexcept {
  std::uint32_t len = 0;
  if (in.size() - pos < sizeof len) return std::nullopt;
  std::memcpy(&len, in.data() + pos, sizeof len);
  if (in.size() - pos - sizeof len < len) return std::nullopt;
  const std::string_view body = in.substr(pos + sizeof len, len);
  pos += sizeof len + len;
  return body;
}

}  // namespace weft::detail
