// SPDX-License-Identifier: Apache-2.0
// src/process/framing.hpp: messages on a worker's socket, private to src/process.
//
// A message is a u32 body length (native byte order: both ends are the same program on
// the same machine) followed by the body. What the bodies hold: worker.hpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace weft::detail {

// Sends one message (length prefix + body) on a blocking socket, retrying on EINTR.
// False if the peer is gone or the frame cannot be allocated. No SIGPIPE.
bool send_message(int fd, const std::string& body) noexcept;

// Reads one whole message's body into `body` from a blocking socket. False at EOF or
// on an error. Throws std::bad_alloc if the body cannot be allocated.
bool receive_message(int fd, std::string& body);

// `message` begins with a placeholder u32: patches it to the length of the rest.
// Throws ValueError if the body is over 4 GiB.
std::string framed(std::string message);

// The next complete message in `in` at `pos`: its body, with `pos` moved past it; nullopt
// (and `pos` unchanged) if it has not all arrived.
std::optional<std::string_view> next_message(std::string_view in, std::size_t& pos) noexcept;

}  // namespace weft::detail
