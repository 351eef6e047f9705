// tests/tour/run_process.hpp: runs a command through the shell and captures its output.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace tour_test {

struct Result {
  int status = -1;  // exit status, or -1 if the command did not exit normally
  std::string out;  // stdout and stderr
};

inline Result run(const std::string& command) {
  Result r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) r.status = WEXITSTATUS(status);
  return r;
}

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace tour_test
