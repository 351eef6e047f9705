// SPDX-License-Identifier: Apache-2.0
// weft-demo: the tour of the Python threading guide in C++.
//
//   weft-demo                 every lesson, in the guide's order
//   weft-demo race gil        the named lessons
//   weft-demo --list          the lessons
//   weft-demo --quick         shrunk work (guide times / 20), for tests
//   weft-demo --version       the version
//
// Exit status: 0 if every promise held, 1 if one failed, 2 for a usage error.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <filesystem>
#include <iostream>

#include "common/cli.hpp"
#include "tour.hpp"

namespace {
std::string self_path(const char* argv0) {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return argv0;
  buf[n] = '\0';
  return buf;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weft-demo: every lesson of the Python threading guide, run in C++ with weft"};
  weft_tools::add_version_flag(app, "weft-demo");
  tour::Settings settings;
  std::vector<std::string> lessons;
  bool list = false;
  app.add_option("lessons", lessons, "lessons to run (default: all, in order; see --list)");
  app.add_flag("--list", list, "list the lessons and exit");
  app.add_flag("--quick", settings.quick, "shrink the work (guide times / 20), for tests");
  app.add_option("--out-dir", settings.out_dir,
                 "directory for files lessons write (the gil SVG chart; default: the temp dir)")
      ->check(CLI::ExistingDirectory);
  // Hidden: the daemon lesson re-executes weft-demo to watch a process exit.
  auto* child = app.add_subcommand("daemon-child", "child process of the daemon lesson");
  child->group("");
  child->add_flag("--quick", settings.quick);
  // Hidden: the interrupt lesson re-executes weft-demo to send it SIGINT.
  auto* interrupted = app.add_subcommand("interrupt-child", "child process of the interrupt lesson");
  interrupted->group("");
  // Hidden: the cluster lesson's worker processes.
  auto* worker = app.add_subcommand("cluster-worker", "worker process of the cluster lesson");
  worker->group("");
  std::string worker_url;
  long worker_parent = 0, worker_lease_ms = 1000;
  worker->add_option("--url", worker_url)->required();
  worker->add_option("--parent", worker_parent)->required();
  worker->add_option("--lease-ms", worker_lease_ms);
  if (const auto status = weft_tools::parse_command_line(app, argc, argv)) return *status;

  if (*worker) return tour::cluster_worker ? tour::cluster_worker(worker_url, worker_parent, worker_lease_ms) : 2;

  if (*child) return tour::daemon_child ? tour::daemon_child(settings.quick) : 2;
  if (*interrupted) return tour::interrupt_child ? tour::interrupt_child(settings.quick) : 2;
  if (list) {
    tour::list(std::cout);
    return 0;
  }
  settings.self_path = self_path(argv[0]);
  if (settings.out_dir.empty()) settings.out_dir = std::filesystem::temp_directory_path().string();
  return tour::run(lessons, settings);
}
