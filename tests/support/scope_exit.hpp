// SPDX-License-Identifier: Apache-2.0
// Test support: a release that runs on every exit from a scope.
//
// A failing ASSERT_* returns from the test body and an exception unwinds it; a gate
// that only the end of the body opens would then stay closed, and the destructor of a
// pool or thread that waits for it would hang the test instead of failing it. Declare
// the guard after the object that waits (so it runs first) and after the state the
// release touches:
//
//   weft::Event gate;
//   weft::ThreadPoolExecutor pool(1);
//   weft::testing::ScopeExit open_gate([&] { gate.set(); });
#pragma once

#include <utility>

namespace weft::testing {

template <class F>
class ScopeExit {
 public:
  explicit ScopeExit(F fn) : fn_(std::move(fn)) {}
  ~ScopeExit() { fn_(); }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;

 private:
  F fn_;
};

}  // namespace weft::testing
