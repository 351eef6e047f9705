# SPDX-License-Identifier: Apache-2.0
# A compile-fail check, run by ctest: compiles SOURCE (syntax only) with CXX, STD and
# INCLUDES ("|"-separated), expects the compiler to reject it, and expects its FIRST
# error to contain the text of SOURCE's "// expect-error: TEXT" line. So a diagnostic
# that only appears after pages of library errors fails the check.
file(STRINGS "${SOURCE}" expect_line REGEX "^// expect-error: ")
string(REPLACE "// expect-error: " "" expected "${expect_line}")
if(expected STREQUAL "")
  message(FATAL_ERROR "${SOURCE} has no '// expect-error: TEXT' line")
endif()
string(REPLACE "|" ";" include_dirs "${INCLUDES}")
set(include_flags)
foreach(dir IN LISTS include_dirs)
  list(APPEND include_flags "-I${dir}")
endforeach()
execute_process(
  COMMAND "${CXX}" "-std=c++${STD}" -fsyntax-only ${include_flags} "${SOURCE}"
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(status EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must be rejected")
endif()
string(REGEX MATCH "[^\n]*error: [^\n]*" first_error "${output}")
string(FIND "${first_error}" "${expected}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "The first error does not say \"${expected}\":\n${first_error}\n\n"
                      "Full output:\n${output}")
endif()
string(REGEX MATCHALL "\n" lines "${output}")
list(LENGTH lines line_count)
message(STATUS "First error as expected (${line_count} lines of diagnostics)")
