// SPDX-License-Identifier: Apache-2.0
// tools/weft-demo/charts.cpp: bar charts, as text and as SVG.
#include <algorithm>
#include <fstream>

#include "tour.hpp"

namespace tour {

std::string bar_chart(const std::vector<Bar>& bars, std::string_view unit, int width) {
  double top = 0;
  std::size_t label_w = 0;
  for (auto& b : bars) {
    top = std::max(top, b.value);
    label_w = std::max(label_w, b.label.size());
  }
  if (top <= 0) top = 1;
  std::string out;
  for (auto& b : bars) {
    const double cells = b.value / top * width;
    const int full = static_cast<int>(cells);
    const int eighths = static_cast<int>((cells - full) * 8);
    static const char* const kParts[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    std::string bar;
    for (int i = 0; i < full; ++i) bar += "█";
    bar += kParts[std::clamp(eighths, 0, 7)];
    out += "  " + b.label + std::string(label_w - b.label.size(), ' ') + " " + bar +
           fmt(" %.2f", b.value) + std::string(unit) + "\n";
  }
  return out;
}

namespace {
std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}
}  // namespace

bool write_svg_chart(const std::string& path, const std::string& title,
                     const std::vector<Bar>& bars, std::string_view unit) {
  double top = 1;
  for (auto& b : bars) top = std::max(top, b.value);
  const int label_w = 330, bar_w = 420, row = 30, head = 50;
  const int height = head + row * static_cast<int>(bars.size()) + 30;
  std::ofstream f(path);
  if (!f) return false;
  f << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << label_w + bar_w + 90
    << "\" height=\"" << height << "\" font-family=\"sans-serif\" font-size=\"13\">\n";
  f << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  f << "<text x=\"10\" y=\"24\" font-size=\"15\" font-weight=\"bold\">" << xml_escape(title)
    << "</text>\n";
  // The 1x line: no speed-up.
  const double one = 1.0 / top * bar_w;
  f << fmt("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\" "
           "stroke-dasharray=\"4 3\"/>\n",
           label_w + one, head - 8, label_w + one, height - 22);
  f << fmt("<text x=\"%.1f\" y=\"%d\" fill=\"#666\" font-size=\"11\">1x</text>\n",
           label_w + one - 8, height - 8);
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const int y = head + row * static_cast<int>(i);
    const double w = bars[i].value / top * bar_w;
    const char* color = bars[i].value >= 1.3 ? "#3a7bd5" : "#d55e3a";
    f << "<text x=\"10\" y=\"" << y + 15 << "\">" << xml_escape(bars[i].label) << "</text>\n";
    f << fmt("<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"20\" fill=\"%s\"/>\n", label_w, y,
             w, color);
    f << fmt("<text x=\"%.1f\" y=\"%d\">%.2f%s</text>\n", label_w + w + 6, y + 15,
             bars[i].value, xml_escape(unit).c_str());
  }
  f << "</svg>\n";
  return static_cast<bool>(f);
}

}  // namespace tour
