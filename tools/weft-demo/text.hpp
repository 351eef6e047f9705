// SPDX-License-Identifier: Apache-2.0
// tools/weft-demo/text.hpp: laying out the report's text (private to weft-demo).
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace tour {

// Display width of a UTF-8 string (counts code points).
int width_of(std::string_view s);
// Splits `s` into pieces of at most `width` code points (at spaces when possible).
std::vector<std::string> wrap(const std::string& s, int width);
// `s` followed by spaces up to `width` code points (unchanged if it is as wide already).
std::string pad(std::string s, int width);
// The C++ column (`left`) beside the Python column (`right`, headed `right_title`), each
// wrapped to its width.
void print_columns(std::ostream& o, const std::vector<std::string>& left,
                   const std::vector<std::string>& right, const std::string& right_title);

}  // namespace tour
