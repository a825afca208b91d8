#include "demo_chart.hpp"

#include <sstream>

#include "gnuplot.hpp"

namespace swarmdial {

std::string write_chart_svg(const std::vector<ChartSample>& samples, const std::string& svg_path) {
  std::ostringstream d;
  d << "# t_s half_open budget established_per_s upload_MB_per_s\n";
  for (const auto& s : samples)
    d << s.t_s << ' ' << s.half_open << ' ' << s.budget << ' ' << s.established_per_s << ' '
      << s.upload_mb_per_s << '\n';
  std::string script =
      "set terminal svg size 900,720 dynamic font 'sans,11'\n"
      "set output SVG\n"
      "set multiplot layout 3,1 title 'swarmdial demo'\n"
      "set grid\nset key top right\nset xlabel 'seconds'\n"
      "set ylabel 'sockets'\nset yrange [0:*]\n"
      "plot DATA using 1:2 with steps lw 2 title 'half-open', DATA using 1:3 with lines dt 2 "
      "title 'budget'\n"
      "set ylabel 'per second'\n"
      "plot DATA using 1:4 with steps lw 2 title 'established/s'\n"
      "set ylabel 'MB/s'\n"
      "plot DATA using 1:5 with steps lw 2 title 'upload'\n"
      "unset multiplot\n";
  std::string err = run_gnuplot(script, d.str(), svg_path);
  // The demo calls it a chart.
  if (auto at = err.find("plot skipped"); at != std::string::npos) err.replace(at, 4, "chart");
  return err;
}

}  // namespace swarmdial
