# SPDX-License-Identifier: Apache-2.0
# Runs a program and checks its exit status and output (a test driver for the tools' CLI).
#   cmake -DSTATUS=2 [-DOUTPUT=regex] [-DSTDOUT=regex] -P expect_exit.cmake -- program args...
# Fails unless the program exits with STATUS, its stderr + stdout match OUTPUT (if given)
# and its stdout alone matches STDOUT (if given).
set(command "")
set(seen_separator FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(seen_separator)
    list(APPEND command "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(seen_separator TRUE)
  endif()
endforeach()
if(NOT command)
  message(FATAL_ERROR "usage: cmake -DSTATUS=n [-DOUTPUT=regex] -P expect_exit.cmake -- program args...")
endif()

execute_process(COMMAND ${command} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 60)
list(JOIN command " " shown)
message(STATUS "${shown}\n  exit status: ${status}\n  stdout: ${out}\n  stderr: ${err}")
if(NOT "${status}" STREQUAL "${STATUS}")
  message(FATAL_ERROR "${shown}: exit status ${status}, expected ${STATUS}")
endif()
if(DEFINED OUTPUT AND NOT "${err}${out}" MATCHES "${OUTPUT}")
  message(FATAL_ERROR "${shown}: output does not match \"${OUTPUT}\"")
endif()
if(DEFINED STDOUT AND NOT "${out}" MATCHES "${STDOUT}")
  message(FATAL_ERROR "${shown}: stdout does not match \"${STDOUT}\"")
endif()
