// SPDX-License-Identifier: Apache-2.0
// The command-line conventions weft's tools share: `--version` prints "PROGRAM VERSION",
// `--help` the usage; both exit 0. A usage error (unknown option, missing or invalid
// argument) prints CLI11's message and the hint to --help on stderr and exits 2, the
// status of a usage error in Unix tools (CLI11's own codes, 105 to 115, do not escape).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "weft/version.hpp"

namespace weft_tools {

/// Exit status of a usage error.
inline constexpr int kUsageError = 2;

/// Adds `--version`, which prints "<program> <weft version>" and exits 0.
inline void add_version_flag(CLI::App& app, const std::string& program) {
  app.set_version_flag("--version", program + " " + WEFT_VERSION_STRING,
                       "print the version and exit");
}

/// Parses the command line. Returns the status to exit with when the program must stop
/// here (0 after --help or --version, kUsageError after a usage error, with the message
/// printed), or std::nullopt when it should go on.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kUsageError;
  }
  return std::nullopt;
}

}  // namespace weft_tools
