// SPDX-License-Identifier: Apache-2.0
// Ctrl-C as an interrupt of the main thread (weft/detail/keyboard_interrupt.hpp).
//
//   (K1) the handler, if the exit join began, ends the process; otherwise it adds the
//        reason and wakes the main thread (interrupt_thread: atomics and one futex wake),
//        then checks the exit flag again (seq_cst).
//   (K2) the exit join stores the flag (seq_cst), then loads the main thread's reasons: a
//        handler that missed the flag at its second check added the reason before it.
//   (K3) a KeyboardInterrupt that escapes main() (std::terminate with it as the current
//        exception) ends the process killed by SIGINT, as Python does; any other
//        terminate goes to the handler that was installed before.
#include "weft/detail/keyboard_interrupt.hpp"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <thread>

#include "weft/detail/parking_lot.hpp"
#include "weft/detail/wait.hpp"
#include "weft/errors.hpp"

namespace weft::detail {
namespace {

constexpr int kInterruptedExitStatus = 130;  // 128 + SIGINT, as shells report it

std::atomic<bool> g_exit_join_began{false};
std::atomic<bool> g_wake_through_watcher{false};  // fallback backend: see the top of the header
std::atomic<pid_t> g_watcher_pid{0};              // the process whose watcher runs
sem_t g_watcher_semaphore;

void on_sigint(int) {
  const int saved_errno = errno;
  if (g_exit_join_began.load(std::memory_order_seq_cst)) ::_exit(kInterruptedExitStatus);
  if (g_wake_through_watcher.load(std::memory_order_relaxed)) {
    add_interrupt_reasons(main_thread_data(), kInterruptKeyboard);
    ::sem_post(&g_watcher_semaphore);
  } else {
    interrupt_thread(main_thread_data(), kInterruptKeyboard);  // (K1)
  }
  if (g_exit_join_began.load(std::memory_order_seq_cst)) ::_exit(kInterruptedExitStatus);
  errno = saved_errno;
}

// Wakes the main thread for the handler (fallback backend only). Runs until the process
// ends; a semaphore wait that a signal interrupts is simply repeated.
void watch_for_sigint() noexcept {
  (void)::pthread_setname_np(::pthread_self(), "weft-sigint");  // fits the OS's 15 bytes
  for (;;) {
    if (::sem_wait(&g_watcher_semaphore) == 0) interrupt_thread(main_thread_data(), 0);
  }
}

// 0, or the errno of what failed.
int start_watcher_if_needed() {
  if (std::string_view(wait_backend_name()) != "fallback") return 0;
  if (g_watcher_pid.load(std::memory_order_relaxed) == ::getpid()) return 0;
  if (::sem_init(&g_watcher_semaphore, 0, 0) != 0) return errno;
  try {
    std::thread(watch_for_sigint).detach();
  } catch (...) {
    return EAGAIN;
  }
  g_watcher_pid.store(::getpid(), std::memory_order_relaxed);
  g_wake_through_watcher.store(true, std::memory_order_relaxed);
  return 0;
}

std::terminate_handler g_previous_terminate = nullptr;

bool current_exception_is_keyboard_interrupt() noexcept {
  const std::exception_ptr current = std::current_exception();
  if (!current) return false;
  try {
    std::rethrow_exception(current);
  } catch (const KeyboardInterrupt&) {
    return true;
  } catch (...) {
  }
  return false;
}

// (K3) Ends the process by SIGINT's default action (the shell reports 130), so an uncaught
// Ctrl-C neither aborts nor dumps core.
[[noreturn]] void terminate_on_keyboard_interrupt() noexcept {
  if (current_exception_is_keyboard_interrupt()) {
    std::fflush(nullptr);
    ::signal(SIGINT, SIG_DFL);
    sigset_t only_sigint;
    sigemptyset(&only_sigint);
    sigaddset(&only_sigint, SIGINT);
    ::pthread_sigmask(SIG_UNBLOCK, &only_sigint, nullptr);
    ::raise(SIGINT);
    std::_Exit(kInterruptedExitStatus);  // only if SIGINT did not end the process
  }
  if (g_previous_terminate != nullptr) g_previous_terminate();
  std::abort();
}

}  // namespace

void install_sigint_handler() {
  static std::atomic<bool> installing{false};
  // One caller at a time; a concurrent second caller waits for the first (rare: a few
  // instructions plus, with the fallback backend, one thread start).
  while (installing.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
  struct Done {
    ~Done() { installing.store(false, std::memory_order_release); }
  } done;
  int error = start_watcher_if_needed();
  if (error == 0) {
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (::sigaction(SIGINT, &action, nullptr) != 0) error = errno;
  }
  if (error == 0 && std::get_terminate() != terminate_on_keyboard_interrupt)
    g_previous_terminate = std::set_terminate(terminate_on_keyboard_interrupt);
  if (error != 0)
    throw RuntimeError(std::string("cannot install the SIGINT handler: ") + std::strerror(error));
}

void install_sigint_handler_from_environment() noexcept {
  const char* mode = std::getenv("WEFT_SIGINT");
  if (mode == nullptr || std::string_view(mode) != "raise") return;
  try {
    install_sigint_handler();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft: WEFT_SIGINT=raise: %s\n", e.what());
  }
}

void sigint_exit_join_began() noexcept {
  g_exit_join_began.store(true, std::memory_order_seq_cst);  // (K2)
  if ((pending_interrupts() & kInterruptKeyboard) != 0 &&
      &current_thread_data() == &main_thread_data()) {
    std::fflush(nullptr);
    std::_Exit(kInterruptedExitStatus);
  }
}

}  // namespace weft::detail
