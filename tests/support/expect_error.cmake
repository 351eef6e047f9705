# SPDX-License-Identifier: Apache-2.0
# Shared by the checks that a source must be rejected (support/compile_fail.cmake,
# layers/violation.cmake): the source names the text its first error must contain on a
# "// expect-error: TEXT" line.

# OUT_VAR = SOURCE's expected error text; a source without the line is a fatal error.
function(weft_expected_error source out_var)
  file(STRINGS "${source}" expect_line REGEX "^// expect-error: ")
  string(REPLACE "// expect-error: " "" expected "${expect_line}")
  if(expected STREQUAL "")
    message(FATAL_ERROR "${source} has no '// expect-error: TEXT' line")
  endif()
  set(${out_var} "${expected}" PARENT_SCOPE)
endfunction()

# OUT_VAR = one -I flag per directory of DIRS ("|"-separated).
function(weft_include_flags dirs out_var)
  string(REPLACE "|" ";" include_dirs "${dirs}")
  set(include_flags)
  foreach(dir IN LISTS include_dirs)
    list(APPEND include_flags "-I${dir}")
  endforeach()
  set(${out_var} ${include_flags} PARENT_SCOPE)
endfunction()

# Fails unless FIRST_ERROR contains EXPECTED (clang's "'HEADER' file not found" counts as
# gcc's "HEADER: No such file"); OUTPUT is shown with the failure.
function(weft_check_first_error expected first_error output)
  string(FIND "${first_error}" "${expected}" found)
  if(found EQUAL -1 AND expected MATCHES "^(.+): No such file$")
    string(FIND "${first_error}" "'${CMAKE_MATCH_1}' file not found" found)
  endif()
  if(found EQUAL -1)
    message(FATAL_ERROR "The first error does not say \"${expected}\":\n${first_error}\n\n"
                        "Full output:\n${output}")
  endif()
endfunction()
