// SPDX-License-Identifier: Apache-2.0
// Test support for the stop matrices (tests/cancel/matrix_test.cpp, tests/dist/cancel_test.cpp):
// how a blocking call ended, and the check that it ended with its stop's exception.
#pragma once

#include <gtest/gtest.h>

enum class Ended { kRunning, kReturned, kExpected, kOther };

// Runs call.block() and says how it ended: kExpected if it threw E.
template <class E, class Call>
Ended run_block(Call& call) {
  try {
    call.block();
    return Ended::kReturned;
  } catch (const E&) {
    return Ended::kExpected;
  } catch (...) {
    return Ended::kOther;
  }
}

inline void expect_expected(Ended e, const char* exception) {
  EXPECT_NE(e, Ended::kReturned) << "the call returned instead of throwing " << exception;
  EXPECT_NE(e, Ended::kOther) << "the call threw something other than " << exception;
  EXPECT_NE(e, Ended::kRunning) << "the call never ended";
}
