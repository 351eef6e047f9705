// SPDX-License-Identifier: Apache-2.0
// weft/errors.hpp: the exceptions weft throws, named after Python's.
//
// Each is thrown exactly where Python raises its namesake (docs/python-mapping.md). All derive
// from weft::Error (itself a std::runtime_error) except ValueError, which is a
// std::invalid_argument as the C++ idiom for a bad argument, and KeyboardInterrupt, which
// like Python's is outside the error hierarchy.
#pragma once

#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "weft/detail/config.hpp"

namespace weft {

// Base of every weft exception except ValueError.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Misuse of an object in its current state (Python: RuntimeError).
class RuntimeError : public Error {
 public:
  using Error::Error;
};

// A bad argument value (Python: ValueError).
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A timed wait on a future, map or as_completed ran out of time (Python: TimeoutError).
class TimeoutError : public Error {
 public:
  using Error::Error;
};

// The result of a cancelled future was asked for (Python: CancelledError).
class CancelledError : public Error {
 public:
  using Error::Error;
};

// A Barrier is broken, aborted, reset while waiting, or timed out.
class BrokenBarrierError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// A non-blocking or timed get found the queue empty (Python: queue.Empty).
class Empty : public Error {
 public:
  Empty() : Error("queue is empty") {}
  using Error::Error;
};

// A non-blocking or timed put found the queue full (Python: queue.Full).
class Full : public Error {
 public:
  Full() : Error("queue is full") {}
  using Error::Error;
};

// The queue was shut down (Python 3.13: queue.ShutDown).
class ShutDown : public Error {
 public:
  ShutDown() : Error("queue is shut down") {}
  using Error::Error;
};

// An executor can no longer run work, e.g. its initializer failed.
class BrokenExecutor : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// The worker process running a task died.
class BrokenProcessPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

// A task threw inside a worker process; what() holds the original type and message.
class RemoteError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

namespace testing {
// Every thread of a testing::run bubble is blocked in weft and none has a timeout
// (<weft/testing.hpp>). what(): the thread dump of the bubble, as WEFT_DEBUG=deadlock
// prints it.
class Deadlock : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};
}  // namespace testing

// Lock-order checking in throw mode found an inversion.
class LockOrderError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// Ctrl-C (SIGINT) reached the main thread (Python: KeyboardInterrupt). Not a weft::Error,
// as Python's is a BaseException and not an Exception: `catch (const weft::Error&)` does not
// swallow it. See <weft/cancel.hpp>.
class KeyboardInterrupt : public std::exception {
 public:
  const char* what() const noexcept override { return "KeyboardInterrupt"; }
};

namespace detail {
// A count given as a signed integer (Barrier(-1), ThreadPoolExecutor(-1), the process
// pools): negative is a ValueError ("NAME must not be negative (got N)"), as in Python;
// otherwise the value as a std::size_t. Constructors that take a std::size_t count add a
// std::signed_integral overload that calls this, so a negative argument is rejected
// instead of wrapping to a huge count.
template <std::signed_integral I>
std::size_t non_negative_count(I n, const char* name) {
  if (n < 0)
    throw ValueError(std::string(name) + " must not be negative (got " + std::to_string(n) + ")");
  return static_cast<std::size_t>(n);
}
}  // namespace detail

}  // namespace weft
