# SPDX-License-Identifier: Apache-2.0
# A consumer compiling with C++17 must be told, first and in a few lines, that weft needs
# C++20. For every public header, a file that includes only it is compiled with -std=c++17:
# the compilation must fail, its first error must name C++20, and it must stop there (at
# most 2 errors, not pages of them from the standard library).
# Variables: INCLUDE_DIR (weft's include/), CXX_COMPILER, SCRATCH_DIR.
file(REMOVE_RECURSE ${SCRATCH_DIR})
file(MAKE_DIRECTORY ${SCRATCH_DIR})
file(GLOB headers RELATIVE ${INCLUDE_DIR} ${INCLUDE_DIR}/weft/*.hpp)
if(NOT headers)
  message(FATAL_ERROR "no public headers in ${INCLUDE_DIR}/weft")
endif()
set(problems "")
foreach(header IN LISTS headers)
  string(MAKE_C_IDENTIFIER ${header} name)
  set(source ${SCRATCH_DIR}/${name}.cpp)
  file(WRITE ${source} "#include <${header}>\nint main() { return 0; }\n")
  execute_process(COMMAND ${CXX_COMPILER} -std=c++17 -fsyntax-only -I${INCLUDE_DIR} ${source}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REGEX MATCHALL ":[0-9]+:[0-9]+: (fatal )?error: [^\n]*" errors "${err}")
  list(LENGTH errors count)
  set(first "")
  if(count GREATER 0)
    list(GET errors 0 first)
  endif()
  if(rc EQUAL 0)
    string(APPEND problems "${header}: compiles as C++17 without an error\n")
  elseif(NOT first MATCHES "C\\+\\+20" OR count GREATER 2)
    string(APPEND problems "${header}: ${count} errors, the first does not name C++20:\n${err}\n")
  else()
    message(STATUS "${header}: ${first}")
  endif()
endforeach()
if(problems)
  message(FATAL_ERROR "${problems}")
endif()
