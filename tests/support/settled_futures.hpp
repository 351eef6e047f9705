// SPDX-License-Identifier: Apache-2.0
// Test support: futures that are already finished, failed or cancelled.
#pragma once

#include <exception>
#include <stdexcept>

#include "weft/futures.hpp"

namespace weft::testing {

inline Future<int> finished(int v) {
  Future<int> f;
  f.set_result(v);
  return f;
}
inline Future<int> failed() {
  Future<int> f;
  f.set_exception(std::make_exception_ptr(std::logic_error("failed")));
  return f;
}
inline Future<int> cancelled() {
  Future<int> f;
  f.cancel();
  return f;
}

}  // namespace weft::testing
