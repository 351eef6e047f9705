// SPDX-License-Identifier: Apache-2.0
// weft/detail/keyboard_interrupt.hpp: L1, Ctrl-C (SIGINT) as an interrupt of the main thread
// (weft::install_keyboard_interrupt in <weft/cancel.hpp>).
//
// The SIGINT handler adds kInterruptKeyboard to the main thread's record and wakes its
// interruptible park, if any; that park then throws KeyboardInterrupt. The handler takes
// no lock and allocates nothing. With L0's fallback backend a wake takes a mutex, so there
// the handler only adds the reason and posts a semaphore, and a watcher thread wakes.
#pragma once

namespace weft::detail {

// Installs the handler (once per process; again in a forked child only to restart the
// fallback backend's watcher), and a std::terminate handler under which a KeyboardInterrupt
// escaping main() ends the process killed by SIGINT (the shell reports 130) instead of
// aborting; other terminates go to the previous handler. Throws: RuntimeError if it cannot
// be installed.
void install_sigint_handler();

// WEFT_SIGINT=raise: install_sigint_handler() at start-up; a failure is reported on
// stderr. Any other value, or none, does nothing.
void install_sigint_handler_from_environment() noexcept;

// weft joins the non-daemon threads at exit: from now on a Ctrl-C ends the process with
// status 130 (std::_Exit), and so does one that is pending now.
void sigint_exit_join_began() noexcept;

}  // namespace weft::detail
