# SPDX-License-Identifier: Apache-2.0
# Uses weft as a user outside the project would, from an installed tree, and fails on the
# first step that does not work.
#   MODE=install: `cmake --install` of the components weft, tools (and dist) into a scratch
#                 prefix.
#   MODE=deb:     cpack builds libweft-dev, weft-tools (and libweft-dist-dev); `dpkg-deb -x`
#                 unpacks them into a scratch root (prefix <root>/usr), as apt would install
#                 them. libweft-dist-dev must depend on libhiredis-dev and on this very
#                 libweft-dev, and libweft-dev must hold nothing of weft::dist.
# Then: the consumer project builds and runs with find_package(weft CONFIG) and with the
# flags of `pkg-config --cflags --libs weft` (which must leave the C++ standard to the
# consumer: a C++23 build stays C++23), and weft-demo and weft-trace answer --version.
# With weft::dist, consumer_dist builds and runs with find_package(weft COMPONENTS dist)
# and with `pkg-config --cflags --libs weft-dist`.
# Variables: MODE, WEFT_BINARY_DIR, CONSUMER_SOURCE_DIR, SCRATCH_DIR, CXX_COMPILER, VERSION,
# CPACK (the cpack program, for MODE=deb), TOOLS (the tools this build has, comma-separated:
# a build without tools packages and checks the library alone), DIST (1 when weft::dist is
# built).
file(REMOVE_RECURSE ${SCRATCH_DIR})
string(REPLACE "," ";" TOOLS "${TOOLS}")
list(REMOVE_ITEM TOOLS "")

# run(COMMAND...): runs it, fails the test if it fails; its stdout is left in `out`.
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${stdout}\n${err}")
  endif()
  message(STATUS "${ARGV}\n${stdout}")
  set(out "${stdout}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "install")
  set(prefix ${SCRATCH_DIR}/prefix)
  set(components weft tools)
  if(DIST)
    list(APPEND components dist)
  endif()
  foreach(component IN LISTS components)
    run(${CMAKE_COMMAND} --install ${WEFT_BINARY_DIR} --prefix ${prefix} --component ${component})
  endforeach()
elseif(MODE STREQUAL "deb")
  find_program(DPKG_DEB dpkg-deb REQUIRED)
  run(${CPACK} -G DEB --config ${WEFT_BINARY_DIR}/CPackConfig.cmake -B ${SCRATCH_DIR}/packages)
  set(root ${SCRATCH_DIR}/root)
  set(packages libweft-dev)
  set(files include/weft/weft.hpp include/weft/version.hpp lib/libweft.a
            lib/cmake/weft/weftConfig.cmake lib/pkgconfig/weft.pc share/doc/libweft-dev/copyright)
  if(TOOLS)
    list(APPEND packages weft-tools)
    list(APPEND files share/doc/weft-tools/copyright)
  endif()
  foreach(tool IN LISTS TOOLS)
    list(APPEND files bin/${tool} share/man/man1/${tool}.1.gz)
  endforeach()
  set(dist_files include/weft/dist.hpp lib/libweft-dist.a lib/cmake/weft/weftDistTargets.cmake
                 lib/pkgconfig/weft-dist.pc)
  if(DIST)
    list(APPEND packages libweft-dist-dev)
    list(APPEND files ${dist_files} share/doc/libweft-dist-dev/copyright)
  endif()
  foreach(package IN LISTS packages)
    file(GLOB deb ${SCRATCH_DIR}/packages/${package}_${VERSION}-*.deb)
    if(NOT deb)
      file(GLOB made ${SCRATCH_DIR}/packages/*.deb)
      message(FATAL_ERROR "cpack made no ${package}_${VERSION}-*.deb (it made: ${made})")
    endif()
    run(${DPKG_DEB} --field ${deb} Depends)
    set(depends "${out}")
    run(${DPKG_DEB} --field ${deb} Package Version Depends)
    run(${DPKG_DEB} --contents ${deb})
    if(package STREQUAL "libweft-dist-dev")
      foreach(needed "libhiredis-dev" "libweft-dev (= ${VERSION}-")
        string(FIND "${depends}" "${needed}" at)
        if(at LESS 0)
          message(FATAL_ERROR "libweft-dist-dev does not depend on ${needed}...: Depends: ${depends}")
        endif()
      endforeach()
    elseif(package STREQUAL "libweft-dev")
      foreach(file IN LISTS dist_files)
        string(FIND "${out}" "/usr/${file}" at)
        if(NOT at LESS 0)
          message(FATAL_ERROR "libweft-dev holds /usr/${file}, which belongs to libweft-dist-dev")
        endif()
      endforeach()
    endif()
    run(${DPKG_DEB} -x ${deb} ${root})
  endforeach()
  set(prefix ${root}/usr)
  foreach(file IN LISTS files)
    if(NOT EXISTS ${prefix}/${file})
      message(FATAL_ERROR "the packages have no /usr/${file}")
    endif()
  endforeach()
else()
  message(FATAL_ERROR "MODE must be install or deb")
endif()

# find_package(weft CONFIG) and weft::weft (and COMPONENTS dist, weft::dist).
if(NOT DIST)
  set(DIST 0)
endif()
run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${SCRATCH_DIR}/build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DWEFT_CONSUMER_DIST=${DIST})
run(${CMAKE_COMMAND} --build ${SCRATCH_DIR}/build)
run(${SCRATCH_DIR}/build/consumer)
if(DIST)
  run(${SCRATCH_DIR}/build/consumer_dist)
endif()

# pkg-config: the same program, compiled as C++23 with the flags weft.pc gives. The
# program checks the standard it was compiled with, so a -std flag in weft.pc fails it.
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
run(${PKG_CONFIG} --modversion weft)
string(STRIP "${out}" pc_version)
if(NOT pc_version STREQUAL VERSION)
  message(FATAL_ERROR "pkg-config --modversion weft says ${pc_version}, expected ${VERSION}")
endif()
run(${PKG_CONFIG} --cflags --libs weft)
string(STRIP "${out}" flags)
if(flags MATCHES "(^| )-std=")
  message(FATAL_ERROR "weft.pc forces a C++ standard onto its users: ${flags}")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX_COMPILER} -std=c++2b -DWEFT_CONSUMER_EXPECT_CXX23=1
    -DWEFT_CONSUMER_EXPECT_VERSION="${pc_version}" ${CONSUMER_SOURCE_DIR}/main.cpp ${flags}
    -o ${SCRATCH_DIR}/consumer_pc)
run(${SCRATCH_DIR}/consumer_pc)
if(DIST)
  run(${PKG_CONFIG} --cflags --libs weft-dist)
  string(STRIP "${out}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${CXX_COMPILER} -std=c++20 ${CONSUMER_SOURCE_DIR}/dist_main.cpp ${flags} -o ${SCRATCH_DIR}/consumer_dist_pc)
  run(${SCRATCH_DIR}/consumer_dist_pc)
endif()

# The tools, installed beside the library, say their version.
foreach(tool IN LISTS TOOLS)
  run(${prefix}/bin/${tool} --version)
  if(NOT out STREQUAL "${tool} ${VERSION}\n")
    message(FATAL_ERROR "${tool} --version printed \"${out}\", expected \"${tool} ${VERSION}\"")
  endif()
endforeach()
