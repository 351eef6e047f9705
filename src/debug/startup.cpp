// SPDX-License-Identifier: Apache-2.0
// Start-up: WEFT_DEBUG, WEFT_TRACE, WEFT_HANG_SECONDS and WEFT_LOCK_ORDER_MODE switch the
// tools on before main(); WEFT_SIGINT=raise installs the Ctrl-C handler
// (weft::install_keyboard_interrupt).
//
// This translation unit defines link_debug_tools, which every translation unit of a
// program that includes a weft header refers to (weft/detail/link_debug_tools.hpp), so it
// is always linked in, and its start-up object always runs.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "debug/state.hpp"
#include "weft/detail/keyboard_interrupt.hpp"
#include "weft/detail/parking_lot.hpp"

namespace weft::detail {

extern const char link_debug_tools = 0;

namespace dbg {
namespace {

// A lock-order mode: "report", "throw" or "abort". False (mode unchanged) otherwise.
bool parse_mode(std::string_view text, Mode& mode) noexcept {
  if (text == "report") {
    mode = Mode::report;
  } else if (text == "throw") {
    mode = Mode::throw_error;
  } else if (text == "abort") {
    mode = Mode::abort;
  } else {
    return false;
  }
  return true;
}

// WEFT_HANG_SECONDS: decimal seconds, >= 0 (0: no hang report).
void read_hang_seconds(debug::Options& opts) {
  const char* env = std::getenv("WEFT_HANG_SECONDS");
  if (env == nullptr || env[0] == '\0') return;
  char* end = nullptr;
  const double seconds = std::strtod(env, &end);
  if (end == env || *end != '\0' || !(seconds >= 0) || seconds > 1e9) {
    std::fprintf(stderr, "weft: WEFT_HANG_SECONDS: '%s' is not a number of seconds\n", env);
    return;
  }
  opts.hang_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000 + 0.5));
}

// Reads WEFT_DEBUG and WEFT_TRACE once, before main().
struct StartUp {
  StartUp() {
    (void)now_ns();  // fixes the trace's time base
    const char* env = std::getenv("WEFT_DEBUG");
    const char* trace = std::getenv("WEFT_TRACE");
    debug::Options opts;
    bool any = false;
    if (env != nullptr && env[0] != '\0') {
      std::string_view rest(env);
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        std::string_view mode;
        if (const auto colon = item.find(':'); colon != std::string_view::npos) {
          mode = item.substr(colon + 1);
          item = item.substr(0, colon);
        }
        if (item == "lock-order" || item == "all") {
          opts.lock_order = true;
          if (!mode.empty() && !parse_mode(mode, opts.lock_order_mode)) {
            std::fprintf(stderr, "weft: WEFT_DEBUG: unknown lock-order mode '%.*s'\n",
                         static_cast<int>(mode.size()), mode.data());
          }
        }
        if (item == "deadlock" || item == "all") opts.deadlock = true;
        if (item == "stats" || item == "all") opts.stats = true;
        if (item == "dump-on-sigquit" || item == "all") opts.dump_on_sigquit = true;
        if (item != "lock-order" && item != "deadlock" && item != "stats" &&
            item != "dump-on-sigquit" && item != "all" && !item.empty()) {
          std::fprintf(stderr,
                       "weft: WEFT_DEBUG: unknown tool '%.*s' (known: lock-order[:report|"
                       ":throw|:abort], deadlock, stats, dump-on-sigquit, all)\n",
                       static_cast<int>(item.size()), item.data());
        }
      }
      any = opts.lock_order || opts.deadlock || opts.stats || opts.dump_on_sigquit;
      read_hang_seconds(opts);
    }
    // WEFT_LOCK_ORDER_MODE=report|throw|abort overrides a mode given in WEFT_DEBUG.
    if (const char* m = std::getenv("WEFT_LOCK_ORDER_MODE"); m != nullptr && m[0] != '\0') {
      if (!parse_mode(m, opts.lock_order_mode))
        std::fprintf(stderr, "weft: WEFT_LOCK_ORDER_MODE: unknown mode '%s'\n", m);
    }
    if (trace != nullptr && trace[0] != '\0') {
      opts.trace_path = trace;
      any = true;
    }
    if (any) apply(opts);
    install_sigint_handler_from_environment();
  }
};
StartUp g_start_up;

}  // namespace
}  // namespace dbg
}  // namespace weft::detail
