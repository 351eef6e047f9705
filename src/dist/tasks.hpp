// SPDX-License-Identifier: Apache-2.0
// dist/tasks.hpp: the server-side layout shared by dist::Executor and dist::serve.
//
// Keys of executor NAME (weft:x:{NAME}:PART):
//   tasks    stream of tasks, consumer group kGroup. Fields: i (executor instance),
//            t (task id), f (function name), s (signature hash), a (wire-encoded args)
//   replies  stream read by the executor's collector. Fields: i, t, k (kind), p (payload)
//            kinds: R result (wire-encoded), E error ("Type: message"), L lost (dead-lettered)
//   dead     dead-letter stream: the task's fields plus `deliveries`
// A task is pending (in the group's PEL) from its delivery until its result is written
// or it is dead-lettered; both remove it in one script, so exactly one of them happens.
#pragma once

#include <string>
#include <string_view>

#include "dist/redis.hpp"

namespace weft::dist::detail {

inline constexpr std::string_view kGroup = "weft";

struct ExecutorKeys {
  explicit ExecutorKeys(std::string_view name)
      : tasks(key("x", name, "tasks")), replies(key("x", name, "replies")), dead(key("x", name, "dead")) {}
  std::string tasks, replies, dead;
};

// A field of a stream entry's flat [field, value, ...] array ("" if absent).
std::string_view field(const redisReply* fields, std::string_view name);

}  // namespace weft::dist::detail
