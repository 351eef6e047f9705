# SPDX-License-Identifier: Apache-2.0
# A layering violation, run by ctest, that the build must reject (tests/CMakeLists.txt):
# SOURCE is compiled as code of one layer (its "// layer: TARGET" line), with that layer's
# include directories (INCLUDES, "|"-separated) and, for a call, linked with that layer's
# objects and those of the layers below it (OBJECTS, "|"-separated). The first error must
# contain the text of SOURCE's "// expect-error: TEXT" line: "No such file" for a wrong
# include, "undefined reference" for a wrong call.
file(STRINGS "${SOURCE}" expect_line REGEX "^// expect-error: ")
string(REPLACE "// expect-error: " "" expected "${expect_line}")
if(expected STREQUAL "")
  message(FATAL_ERROR "${SOURCE} has no '// expect-error: TEXT' line")
endif()
string(REPLACE "|" ";" include_dirs "${INCLUDES}")
string(REPLACE "|" ";" objects "${OBJECTS}")
string(REPLACE "|" ";" flags "${FLAGS}")
set(include_flags)
foreach(dir IN LISTS include_dirs)
  list(APPEND include_flags "-I${dir}")
endforeach()
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
string(FIND "${first_error}" "${expected}" found)
if(found EQUAL -1 AND expected MATCHES "^(.+): No such file$")
  # clang words gcc's "HEADER: No such file or directory" as "'HEADER' file not found"
  string(FIND "${first_error}" "'${CMAKE_MATCH_1}' file not found" found)
endif()
if(found EQUAL -1)
  message(FATAL_ERROR "The first error does not say \"${expected}\":\n${first_error}\n\n"
                      "Full output:\n${output}")
endif()
message(STATUS "Rejected as expected: ${first_error}")
