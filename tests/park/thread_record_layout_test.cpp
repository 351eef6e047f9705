// SPDX-License-Identifier: Apache-2.0
// The thread record's layout (src/park/thread_record.hpp): everything an unparker touches
// in a parked thread's record is on one cache line, and what the parked thread writes at
// every park is not on it, so a wake-up moves one line of the record between the cores.
#include "park/thread_record.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>

namespace {

using weft::detail::ThreadRecord;

constexpr std::uintptr_t kLine = 64;

std::uintptr_t line_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p) / kLine; }

// The first and the last byte of a member.
template <class M>
bool on_line(const M& member, std::uintptr_t line) {
  return line_of(&member) == line &&
         line_of(reinterpret_cast<const unsigned char*>(&member) + sizeof(M) - 1) == line;
}

void expect_one_hand_off_line(const ThreadRecord& r) {
  const std::uintptr_t line = line_of(&r.parked);
  // Read or written by unpark_one / unpark_n / unpark_requeue and wake().
  EXPECT_TRUE(on_line(r.parked, line));
  EXPECT_TRUE(on_line(r.key, line));
  EXPECT_TRUE(on_line(r.next, line));
  EXPECT_TRUE(on_line(r.unpark_token, line));
  EXPECT_TRUE(on_line(r.bubble_slot.bubble, line));
  // Written by the parked thread at every park; read by the debug tools only.
  EXPECT_NE(line_of(&r.site), line);
  EXPECT_NE(line_of(&r.since), line);
  EXPECT_NE(line_of(&r.deadline), line);
}

TEST(ThreadRecordLayout, AnUnparkerTouchesOneLineOfTheRecord) {
  expect_one_hand_off_line(weft::detail::this_thread_record());
  std::thread([] { expect_one_hand_off_line(weft::detail::this_thread_record()); }).join();
  const weft::detail::RecordRef fresh = weft::detail::new_thread_record();
  expect_one_hand_off_line(*fresh);
}

}  // namespace
