# SPDX-License-Identifier: Apache-2.0
# A layering violation, run by ctest, that the build must reject (tests/CMakeLists.txt):
# SOURCE is compiled as code of one layer (its "// layer: TARGET" line), with that layer's
# include directories (INCLUDES, "|"-separated) and, for a call, linked with that layer's
# objects and those of the layers below it (OBJECTS, "|"-separated). The first error must
# contain the text of SOURCE's "// expect-error: TEXT" line: "No such file" for a wrong
# include, "undefined reference" for a wrong call.
include(${CMAKE_CURRENT_LIST_DIR}/../support/expect_error.cmake)
weft_expected_error("${SOURCE}" expected)
weft_include_flags("${INCLUDES}" include_flags)
string(REPLACE "|" ";" objects "${OBJECTS}")
string(REPLACE "|" ";" flags "${FLAGS}")
get_filename_component(name ${SOURCE} NAME_WE)
set(out ${SCRATCH_DIR}/${name})
file(MAKE_DIRECTORY ${SCRATCH_DIR})
set(compile "${CXX}" "-std=c++20" -DWEFT_BUILDING_LIBRARY=1 ${flags} ${include_flags})
if(objects)
  execute_process(COMMAND ${compile} -c "${SOURCE}" -o ${out}.o
                  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${SOURCE} must compile (only its link must fail):\n${output}")
  endif()
  execute_process(COMMAND "${CXX}" ${flags} -pthread ${out}.o ${objects} -o ${out}
                  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
else()
  execute_process(COMMAND ${compile} -fsyntax-only "${SOURCE}"
                  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
endif()
if(status EQUAL 0)
  message(FATAL_ERROR "${SOURCE} was accepted, but the layering must reject it")
endif()
string(REGEX MATCH "[^\n]*(error|undefined reference)[^\n]*" first_error "${output}")
weft_check_first_error("${expected}" "${first_error}" "${output}")
message(STATUS "Rejected as expected: ${first_error}")
