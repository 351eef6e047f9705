# SPDX-License-Identifier: Apache-2.0
# A compile-fail check, run by ctest: compiles SOURCE (syntax only) with CXX, STD and
# INCLUDES ("|"-separated), expects the compiler to reject it, and expects its FIRST
# error to contain the text of SOURCE's "// expect-error: TEXT" line. So a diagnostic
# that only appears after pages of library errors fails the check.
include(${CMAKE_CURRENT_LIST_DIR}/expect_error.cmake)
weft_expected_error("${SOURCE}" expected)
weft_include_flags("${INCLUDES}" include_flags)
execute_process(
  COMMAND "${CXX}" "-std=c++${STD}" -fsyntax-only ${include_flags} "${SOURCE}"
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(status EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must be rejected")
endif()
string(REGEX MATCH "[^\n]*error: [^\n]*" first_error "${output}")
weft_check_first_error("${expected}" "${first_error}" "${output}")
string(REGEX MATCHALL "\n" lines "${output}")
list(LENGTH lines line_count)
message(STATUS "First error as expected (${line_count} lines of diagnostics)")
