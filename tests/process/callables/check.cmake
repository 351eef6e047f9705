# SPDX-License-Identifier: Apache-2.0
# A process pool runs plain functions and captureless lambdas. SOURCE is one of the
# sources here: a rejected_*.cpp must fail to compile with one error, weft's static_assert
# that says why (not pages of template mismatches); an accepted_*.cpp must compile.
# Variables: INCLUDE_DIR (weft's include/), CXX_COMPILER, SOURCE.
get_filename_component(name ${SOURCE} NAME)
execute_process(COMMAND ${CXX_COMPILER} -std=c++20 -fsyntax-only -I${INCLUDE_DIR} ${SOURCE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REPLACE ";" "," err "${err}")  # a message's semicolons would split the list
string(REGEX MATCHALL ":[0-9]+:[0-9]+: (fatal )?error: [^\n]*" errors "${err}")
list(LENGTH errors count)
if(name MATCHES "^accepted_")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} must compile:\n${err}")
  endif()
  message(STATUS "${name}: compiles")
elseif(rc EQUAL 0)
  message(FATAL_ERROR "${name} compiles, but must not")
elseif(NOT err MATCHES "captureless lambda" OR count GREATER 1)
  message(FATAL_ERROR "${name}: ${count} errors, not just weft's static_assert:\n${err}")
else()
  message(STATUS "${name}: refused with weft's static_assert")
endif()
