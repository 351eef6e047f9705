# SPDX-License-Identifier: Apache-2.0
# Fails unless <weft/version.hpp> (HEADER) states VERSION (project(weft VERSION ...)) in its
# WEFT_VERSION_MAJOR/MINOR/PATCH and WEFT_VERSION_STRING macros, and the Doxyfile
# (DOXYFILE, optional) in its PROJECT_NUMBER.
#   cmake -DHEADER=include/weft/version.hpp -DDOXYFILE=Doxyfile -DVERSION=0.1.0 -P check_version.cmake
file(READ ${HEADER} text)
set(found "")
foreach(part MAJOR MINOR PATCH)
  if(NOT text MATCHES "#define WEFT_VERSION_${part} ([0-9]+)")
    message(FATAL_ERROR "${HEADER}: no WEFT_VERSION_${part}")
  endif()
  list(APPEND found ${CMAKE_MATCH_1})
endforeach()
list(JOIN found "." numbers)
if(NOT text MATCHES "#define WEFT_VERSION_STRING \"([^\"]*)\"")
  message(FATAL_ERROR "${HEADER}: no WEFT_VERSION_STRING")
endif()
set(string ${CMAKE_MATCH_1})
if(NOT numbers STREQUAL VERSION OR NOT string STREQUAL VERSION)
  message(FATAL_ERROR "${HEADER} says ${numbers} (\"${string}\"), CMakeLists.txt says ${VERSION}: "
                      "update the header with project(weft VERSION ...)")
endif()
if(DOXYFILE)
  file(READ ${DOXYFILE} doxyfile)
  if(NOT doxyfile MATCHES "\nPROJECT_NUMBER *= *([^\n]*)" OR NOT CMAKE_MATCH_1 STREQUAL VERSION)
    message(FATAL_ERROR "${DOXYFILE}: PROJECT_NUMBER is not ${VERSION}")
  endif()
endif()
message(STATUS "weft/version.hpp, the Doxyfile and CMakeLists.txt agree: ${VERSION}")
