// SPDX-License-Identifier: Apache-2.0
// tools/weft-demo/text.cpp: formatting and wrapping text for the report.
#include "text.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <sstream>

#include "tour.hpp"

namespace tour {

std::string fmt(const char* format, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  return buf;
}


namespace {

constexpr int kColumn = 44;  // width of each of the two columns

}  // namespace

// Display width of a UTF-8 string (counts code points).
int width_of(std::string_view s) {
  int w = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++w;
  return w;
}

// Splits `s` into pieces of at most `width` code points (at spaces when possible).
std::vector<std::string> wrap(const std::string& s, int width) {
  std::vector<std::string> out;
  std::istringstream words(s);
  std::string word, line;
  while (words >> word) {
    while (width_of(word) > width) {  // a word longer than the line: cut it
      if (!line.empty()) out.push_back(std::move(line)), line.clear();
      out.push_back(word.substr(0, static_cast<std::size_t>(width)));
      word.erase(0, static_cast<std::size_t>(width));
    }
    if (!line.empty() && width_of(line) + 1 + width_of(word) > width)
      out.push_back(std::move(line)), line.clear();
    if (!line.empty()) line += ' ';
    line += word;
  }
  if (!line.empty() || out.empty()) out.push_back(line);
  return out;
}

std::string pad(std::string s, int width) {
  const int w = width_of(s);
  if (w < width) s.append(static_cast<std::size_t>(width - w), ' ');
  return s;
}

void print_columns(std::ostream& o, const std::vector<std::string>& left,
                   const std::vector<std::string>& right, const std::string& right_title) {
  std::vector<std::string> l, r;
  for (auto& s : left)
    for (auto& piece : wrap(s, kColumn)) l.push_back(piece);
  for (auto& s : right)
    for (auto& piece : wrap(s, kColumn)) r.push_back(piece);
  o << "  " << pad("weft (C++), this run", kColumn) << " | " << right_title << "\n";
  o << "  " << std::string(kColumn, '-') << " + " << std::string(kColumn, '-') << "\n";
  const std::size_t n = std::max(l.size(), r.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::string a = i < l.size() ? l[i] : "", b = i < r.size() ? r[i] : "";
    o << "  " << pad(a, kColumn) << " | " << b << "\n";
  }
}

}  // namespace tour
