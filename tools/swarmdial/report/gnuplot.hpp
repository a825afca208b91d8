#pragma once
// Drawing an SVG with gnuplot: the data and script are written next to the
// SVG, gnuplot runs as a child with its output silenced, and both files go
// once it is done. Used by the demo's chart and the ceiling's plot.
#include <string>

namespace swarmdial {

// `script` refers to the data as DATA and to the output as SVG; both are
// substituted with the real paths. Returns an empty string, or a one-line
// reason (gnuplot missing or failing, a file not written).
std::string run_gnuplot(const std::string& script, const std::string& data,
                        const std::string& svg_path);

}  // namespace swarmdial
