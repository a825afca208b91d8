#pragma once
// What `swarmdial demo` reports: report.json (the dial summary, outcomes per
// behaviour against the swarm's ground truth, the upload and a timeline) and
// the closing table on stdout.
#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "demo_chart.hpp"
#include "engine/outcome.hpp"
#include "engine/peerwire/metainfo.hpp"
#include "summaries.hpp"
#include "tools/swarm/emulated_swarm.hpp"
#include "tools/swarmdial/seed_run.hpp"

namespace swarmdial {

struct DemoRun {
  const Metainfo* meta = nullptr;
  const EmulatedSwarm* swarm = nullptr;
  size_t peers = 0;
  const SeedResult* result = nullptr;
  SummaryContext ctx;
  // Rows of flows that did not connect, by the behaviour the swarm gave them.
  std::array<std::array<uint64_t, kOutcomeCount>, kBehaviourCount> by_behaviour{};
  uint64_t rows_outside_swarm = 0;
  std::vector<ChartSample> samples;
  std::string chart;  // the SVG written, or empty
};

nlohmann::json demo_report_json(const DemoRun& run);
void print_demo_report(const nlohmann::json& report, const std::string& out_dir);

}  // namespace swarmdial
