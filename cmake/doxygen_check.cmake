# SPDX-License-Identifier: Apache-2.0
# Builds the API reference (Doxyfile in SOURCE_DIR) into OUTPUT_DIR and fails on any
# Doxygen warning (the Doxyfile sets WARN_AS_ERROR; any output on stderr fails too).
# Without doxygen the test is skipped, except in CI (CI=true), where it fails: there
# scripts/install-deps.sh must have installed it.
#   cmake -DSOURCE_DIR=... -DOUTPUT_DIR=... -P doxygen_check.cmake
find_program(DOXYGEN doxygen)
if(NOT DOXYGEN)
  if("$ENV{CI}" STREQUAL "true")
    message(FATAL_ERROR "doxygen is not installed (scripts/install-deps.sh test installs it)")
  endif()
  message("SKIPPED: doxygen is not installed (apt-get install doxygen)")
  return()
endif()
file(REMOVE_RECURSE ${OUTPUT_DIR})
file(MAKE_DIRECTORY ${OUTPUT_DIR})
file(READ ${SOURCE_DIR}/Doxyfile config)
file(WRITE ${OUTPUT_DIR}/Doxyfile "${config}\nOUTPUT_DIRECTORY = ${OUTPUT_DIR}\n")
execute_process(COMMAND ${DOXYGEN} ${OUTPUT_DIR}/Doxyfile WORKING_DIRECTORY ${SOURCE_DIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT err STREQUAL "")
  message(FATAL_ERROR "doxygen failed (${rc}): fix these comments in the headers\n${err}")
endif()
if(NOT EXISTS ${OUTPUT_DIR}/html/index.html)
  message(FATAL_ERROR "doxygen wrote no ${OUTPUT_DIR}/html/index.html")
endif()
message(STATUS "API reference: ${OUTPUT_DIR}/html/index.html")
