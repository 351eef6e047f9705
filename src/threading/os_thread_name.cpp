// SPDX-License-Identifier: Apache-2.0
// OS thread names: what weft gives the kernel for a thread's name (15 bytes).
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "threading/thread_state.hpp"
#include "weft/detail/thread_registry.hpp"

namespace weft::detail {
namespace {

constexpr std::size_t kOsNameMax = 15;  // the kernel's TASK_COMM_LEN - 1

bool is_number_group_byte(char c) noexcept {
  return (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// os_thread_name() into `out` (NUL-terminated), without allocating.
void cut_os_name(std::string_view name, char (&out)[kOsNameMax + 1]) noexcept {
  name = name.substr(0, name.find('\0'));
  std::string_view tail;
  std::size_t head = name.size();
  if (name.size() > kOsNameMax) {
    std::size_t start = name.size();
    while (start > 0 && is_number_group_byte(name[start - 1])) --start;
    tail = name.substr(start);
    if (tail.size() > 7 || tail.find_first_of("0123456789") == std::string_view::npos) tail = {};
    head = kOsNameMax - tail.size();
    // name[head] is the first byte dropped: a UTF-8 continuation byte means the
    // character it belongs to began before the cut, so drop that character whole.
    for (int i = 0; i < 3 && head > 0 && (static_cast<unsigned char>(name[head]) & 0xC0) == 0x80; ++i)
      --head;
  }
  name.substr(0, head).copy(out, head);
  tail.copy(out + head, tail.size());
  out[head + tail.size()] = '\0';
}

}  // namespace

std::uint64_t native_tid() noexcept { return static_cast<std::uint64_t>(::syscall(SYS_gettid)); }

// Best effort: an OS that refuses (or a thread that is gone) leaves the name as it was.
void set_os_name(pthread_t thread, std::string_view name) noexcept {
  char buf[kOsNameMax + 1];
  cut_os_name(name, buf);
  (void)::pthread_setname_np(thread, buf);
}

std::string os_thread_name(std::string_view name) {
  char buf[kOsNameMax + 1];
  cut_os_name(name, buf);
  return buf;
}

void set_current_os_thread_name(std::string_view name) noexcept { set_os_name(::pthread_self(), name); }

}  // namespace weft::detail
