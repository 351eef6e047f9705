// SPDX-License-Identifier: Apache-2.0
// The excepthook: what happens to an exception that escapes a Thread's run().
#include <cstdio>
#include <exception>
#include <functional>
#include <string>

#include "threading/thread_state.hpp"
#include "weft/detail/exception_text.hpp"

namespace weft {
namespace detail {
namespace {

void print_report(const char* header, const std::string& name, const std::string& type,
                  const std::string& what) noexcept {
  try {
    std::string text = header + name + ":\n" + type;
    if (!what.empty()) text += ": " + what;
    text += '\n';
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  } catch (...) {
    std::fputs("Exception in thread (report failed)\n", stderr);
  }
}

void default_hook(const ExceptHookArgs& args) noexcept {
  std::string name = "<unknown>";
  try {
    if (args.thread != nullptr) name = args.thread->name();
  } catch (...) {
  }
  print_report("Exception in thread ", name, args.exc_type, args.what);
}

}  // namespace

void report_exception(ThreadRecord& st) noexcept {
  try {
    ExceptHookArgs args{std::current_exception(), current_exception_type_name(),
                        current_exception_message(), st.object.load(std::memory_order_acquire)};
    std::function<void(const ExceptHookArgs&)> hook;
    {
      Registry& r = registry();
      WordLockGuard guard(r.lock);
      hook = r.hook;
    }
    if (!hook) {
      default_hook(args);
      return;
    }
    try {
      hook(args);
    } catch (...) {
      print_report("Exception in threading.excepthook", "", current_exception_type_name(),
                   current_exception_message());
    }
  } catch (...) {
    std::fputs("Exception in thread: could not report it\n", stderr);
  }
}

}  // namespace detail

void set_excepthook(std::function<void(const ExceptHookArgs&)> hook) {
  detail::Registry& r = detail::registry();
  {
    detail::WordLockGuard guard(r.lock);
    r.hook.swap(hook);
  }
  // `hook` now holds the old function: destroyed here, outside the WordLock.
}

}  // namespace weft
