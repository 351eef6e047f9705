// SPDX-License-Identifier: Apache-2.0
// weft-trace: turns a weft trace (WEFT_TRACE=file.json, or weft::debug::write_trace) into
// a self-contained HTML timeline and a text summary.
//
//   weft-trace trace.json                  print the summary
//   weft-trace trace.json -o timeline.html write the page (and print the summary with -s)
//   weft-trace --version                   the version
//
// Exit status: 0 on success, 1 if the trace cannot be read or the page written, 2 for a
// usage error.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <vector>

#include "common/cli.hpp"
#include "weft_trace.hpp"

int main(int argc, char** argv) {
  CLI::App app{"weft-trace: a weft trace file -> an HTML timeline and a text summary"};
  weft_tools::add_version_flag(app, "weft-trace");
  std::string input, output, title;
  bool summary = false;
  std::size_t top = 10;
  app.add_option("trace", input, "trace file (Chrome trace-event JSON written by weft)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("-o,--html", output, "write the HTML timeline to this file");
  app.add_flag("-s,--summary", summary, "print the text summary (the default without -o)");
  app.add_option("--top", top, "objects listed under top waits")->capture_default_str();
  app.add_option("--title", title, "page title (default: the trace file name)");
  if (const auto status = weft_tools::parse_command_line(app, argc, argv)) return *status;

  try {
    weft_trace::Trace trace = weft_trace::load(input);
    if (!output.empty()) {
      std::ofstream out;
      std::vector<char> buffer(1 << 20);
      out.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      out.open(output, std::ios::binary | std::ios::trunc);
      if (!out) {
        std::cerr << "weft-trace: cannot write " << output << "\n";
        return 1;
      }
      weft_trace::write_html(out, trace, title.empty() ? input : title);
      if (!out.flush()) {
        std::cerr << "weft-trace: cannot write " << output << "\n";
        return 1;
      }
    }
    if (summary || output.empty()) weft_trace::print_summary(std::cout, input, trace, top);
  } catch (const std::exception& e) {
    std::cerr << "weft-trace: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
