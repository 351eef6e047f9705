# SPDX-License-Identifier: Apache-2.0
# A process pool runs plain functions and captureless lambdas. Every rejected_*.cpp here
# must fail to compile with one error, weft's static_assert that says why (not pages of
# template mismatches); every accepted_*.cpp must compile.
# Variables: INCLUDE_DIR (weft's include/), CXX_COMPILER, SOURCE_DIR (this folder).
file(GLOB sources ${SOURCE_DIR}/*.cpp)
set(problems "")
foreach(source IN LISTS sources)
  get_filename_component(name ${source} NAME)
  execute_process(COMMAND ${CXX_COMPILER} -std=c++20 -fsyntax-only -I${INCLUDE_DIR} ${source}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REPLACE ";" "," err "${err}")  # a message's semicolons would split the list
  string(REGEX MATCHALL ":[0-9]+:[0-9]+: (fatal )?error: [^\n]*" errors "${err}")
  list(LENGTH errors count)
  if(name MATCHES "^accepted_")
    if(NOT rc EQUAL 0)
      string(APPEND problems "${name} must compile:\n${err}\n")
    endif()
  elseif(rc EQUAL 0)
    string(APPEND problems "${name} compiles, but must not\n")
  elseif(NOT err MATCHES "captureless lambda" OR count GREATER 1)
    string(APPEND problems "${name}: ${count} errors, not just weft's static_assert:\n${err}\n")
  else()
    message(STATUS "${name}: refused with weft's static_assert")
  endif()
endforeach()
if(problems)
  message(FATAL_ERROR "${problems}")
endif()
