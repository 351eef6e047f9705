// SPDX-License-Identifier: Apache-2.0
// weft/version.hpp: the version of the weft headers, and of the library a program links.
//
// The macros give the version of the headers being compiled; weft::version() gives the
// version of the compiled library, so a program built against one weft and linked with
// another can see it:
//
//   if (std::string_view(weft::version()) != WEFT_VERSION_STRING) { ... mismatch ... }
//
// Versions follow semantic versioning; CHANGELOG.md lists what each one changed. The
// numbers here match project(weft VERSION ...) in CMakeLists.txt (a test checks it).
#pragma once

#include "weft/detail/config.hpp"

/// Major version of the weft headers: incompatible API changes.
#define WEFT_VERSION_MAJOR 0
/// Minor version of the weft headers: additions that keep the API compatible.
#define WEFT_VERSION_MINOR 1
/// Patch version of the weft headers: fixes only.
#define WEFT_VERSION_PATCH 0
/// The version of the weft headers as "MAJOR.MINOR.PATCH".
#define WEFT_VERSION_STRING "0.1.0"
/// The version of the weft headers as one number, MAJOR * 10000 + MINOR * 100 + PATCH,
/// for `#if WEFT_VERSION >= 200` style checks.
#define WEFT_VERSION (WEFT_VERSION_MAJOR * 10000 + WEFT_VERSION_MINOR * 100 + WEFT_VERSION_PATCH)

namespace weft {

/// The version of the weft library this program is linked with, as "MAJOR.MINOR.PATCH".
/// Equal to WEFT_VERSION_STRING unless the headers and the library come from different
/// releases. Never blocks, never throws; the string lives as long as the program.
[[nodiscard]] const char* version() noexcept;

}  // namespace weft
