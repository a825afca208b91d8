#pragma once
// The demo's chart of the run over time, drawn by gnuplot as SVG.
#include <string>
#include <vector>

namespace swarmdial {

struct ChartSample {
  double t_s;
  double half_open, budget;
  double established_per_s;
  double upload_mb_per_s;
};

// Writes `svg_path` (and its data file next to it). Returns an empty string,
// or a one-line reason (gnuplot missing or failing).
std::string write_chart_svg(const std::vector<ChartSample>& samples, const std::string& svg_path);

}  // namespace swarmdial
