#include "demo_report.hpp"

#include <algorithm>
#include <cstdio>

#include "human.hpp"
#include "swarm_report.hpp"

namespace swarmdial {

namespace {
nlohmann::json outcomes_by_behaviour(const DemoRun& run) {
  nlohmann::json by = nlohmann::json::object();
  for (size_t b = 0; b < kBehaviourCount; ++b) {
    nlohmann::json row = nlohmann::json::object();
    uint64_t not_connected = 0;
    for (int o = 0; o < kOutcomeCount; ++o) {
      if (o == static_cast<int>(Outcome::kEstablished)) continue;
      row[std::string(outcome_name(static_cast<Outcome>(o)))] = run.by_behaviour[b][o];
      not_connected += run.by_behaviour[b][o];
    }
    // Established flows go to the pool, not to rows: the rest of the
    // behaviour's targets, once every target has its final outcome.
    uint64_t planned = run.swarm->planned(static_cast<PeerBehaviour>(b));
    row["established"] = planned - std::min(planned, not_connected);
    by[std::string(behaviour_name(static_cast<PeerBehaviour>(b)))] = row;
  }
  return by;
}
}  // namespace

nlohmann::json demo_report_json(const DemoRun& run) {
  const SeedResult& result = *run.result;
  const Metainfo& meta = *run.meta;
  nlohmann::json dial = build_summary(result.view, run.ctx);
  dial["by_behaviour"] = outcomes_by_behaviour(run);
  dial["rows_outside_swarm"] = run.rows_outside_swarm;
  uint64_t high_water = 0, budget = 0;
  for (const auto& s : result.view.shards) {
    high_water += s.high_water;
    budget += s.budget;
  }
  dial["half_open_high_water"] = high_water;
  dial["half_open_budget"] = budget;
  nlohmann::json report;
  report["torrent"] = {{"name", meta.name},
                       {"info_hash", info_hash_hex(meta.info_hash)},
                       {"bytes", meta.total_length},
                       {"pieces", meta.num_pieces},
                       {"piece_length", meta.piece_length}};
  report["swarm"] = swarm_view_json(*run.swarm, false);
  report["swarm"]["peers"] = run.peers;
  report["dial"] = dial;
  report["seed"] = {{"peers_served", result.pool.peers_served},
                    {"bytes_up", result.pool.bytes_up},
                    {"pieces_served", result.pool.pieces_served},
                    {"blocks_served", result.pool.blocks_served},
                    {"upload_bytes_per_s", static_cast<double>(result.pool.bytes_up) /
                                               std::max(1e-9, result.duration_s)}};
  report["leechers_completed"] = run.swarm->counters(PeerBehaviour::kLeecher).completed.get();
  report["duration_s"] = result.duration_s;
  report["interrupted"] = run.ctx.interrupted;
  report["timeline"] = nlohmann::json::array();
  for (const auto& s : run.samples)
    report["timeline"].push_back({s.t_s, s.half_open, s.established_per_s, s.upload_mb_per_s});
  report["chart"] = run.chart;
  return report;
}

void print_demo_report(const nlohmann::json& r, const std::string& out_dir) {
  std::string chart = r["chart"].get<std::string>();
  const auto& dial = r["dial"];
  const auto& truth = r["swarm"]["planned"];
  const auto& out = dial["outcomes"];
  const auto& sh = dial["shards"];
  uint64_t hw = 0, budget = 0;
  for (const auto& s : sh) {
    hw += s["half_open_high_water"].get<uint64_t>();
    budget += s["half_open_budget"].get<uint64_t>();
  }
  const auto& rtt = dial["connect_rtt_us"];
  const auto& seed = r["seed"];
  std::printf("\nswarmdial demo: seeded %s to an emulated swarm of %lu peers in %.1f s\n\n",
              human_bytes(r["torrent"]["bytes"].get<double>()).c_str(),
              static_cast<unsigned long>(r["swarm"]["peers"].get<uint64_t>()),
              r["duration_s"].get<double>());
  std::printf("  attempts      %6lu   half-open high-water %lu of budget %lu\n",
              static_cast<unsigned long>(dial["targets"].get<uint64_t>()),
              static_cast<unsigned long>(hw), static_cast<unsigned long>(budget));
  std::printf("  established   %6lu   (the swarm has %lu leechers + %lu slow peers)\n",
              static_cast<unsigned long>(out["established"].get<uint64_t>()),
              static_cast<unsigned long>(truth["leecher"].get<uint64_t>()),
              static_cast<unsigned long>(truth["slow"].get<uint64_t>()));
  std::printf("  refused       %6lu   (dead peers: %lu)\n",
              static_cast<unsigned long>(out["refused"].get<uint64_t>()),
              static_cast<unsigned long>(truth["dead"].get<uint64_t>()));
  std::printf("  timeout       %6lu   (black holes: %lu)\n",
              static_cast<unsigned long>(out["timeout"].get<uint64_t>()),
              static_cast<unsigned long>(truth["blackhole"].get<uint64_t>()));
  std::printf("  connect rtt   p50 %lu us, p90 %lu us, p99 %lu us, max %lu us\n",
              static_cast<unsigned long>(rtt["p50"].get<uint64_t>()),
              static_cast<unsigned long>(rtt["p90"].get<uint64_t>()),
              static_cast<unsigned long>(rtt["p99"].get<uint64_t>()),
              static_cast<unsigned long>(rtt["max"].get<uint64_t>()));
  const auto& b = r["swarm"]["behaviours"];
  std::printf(
      "  leechers      %lu of %lu completed and verified by SHA-1; slow peers %lu of %lu "
      "(%s verified)\n",
      static_cast<unsigned long>(b["leecher"]["completed"].get<uint64_t>()),
      static_cast<unsigned long>(truth["leecher"].get<uint64_t>()),
      static_cast<unsigned long>(b["slow"]["completed"].get<uint64_t>()),
      static_cast<unsigned long>(truth["slow"].get<uint64_t>()),
      human_bytes(b["slow"]["bytes_verified"].get<double>()).c_str());
  std::printf("  served        %s in %lu pieces, mean upload %s/s\n",
              human_bytes(seed["bytes_up"].get<double>()).c_str(),
              static_cast<unsigned long>(seed["pieces_served"].get<uint64_t>()),
              human_bytes(seed["upload_bytes_per_s"].get<double>()).c_str());
  std::printf("\n  report        %s/report.json\n", out_dir.c_str());
  if (!chart.empty()) std::printf("  chart         %s\n", chart.c_str());
}

}  // namespace swarmdial
