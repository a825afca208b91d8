#include "demo_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>
#include <unordered_map>

#include "demo_chart.hpp"
#include "demo_torrent.hpp"
#include "engine/summary.hpp"
#include "input_files.hpp"
#include "seed_run.hpp"
#include "signal_watcher.hpp"
#include "swarm_view.hpp"
#include "tools/swarmdial/options/demo_config.hpp"
#include "tools/swarmdial/options/dial_config.hpp"

namespace swarmdial {

namespace fs = std::filesystem;

namespace {

uint64_t endpoint_key(const Endpoint& e) {
  uint32_t ip = uint32_t{e.ip.bytes[0]} << 24 | uint32_t{e.ip.bytes[1]} << 16 |
                uint32_t{e.ip.bytes[2]} << 8 | e.ip.bytes[3];
  return uint64_t{ip} << 16 | e.port;
}

// The temporary directory goes away however the demo ends.
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "swarmdial-demo.XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp: " + tmpl);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void print_report(const nlohmann::json& r, const std::string& out_dir, const std::string& chart) {
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

}  // namespace

int run_demo_command(const std::vector<std::string>& args) {
  std::string help;
  std::optional<DemoConfig> parsed;
  std::vector<SwarmPeer> plan;
  try {
    parsed = parse_demo_args(args, help);
    if (!parsed) {
      std::cout << help;
      return 0;
    }
    try {
      plan = plan_swarm(parsed->shape.counts, parsed->shape.base, parsed->shape.port,
                        parsed->shape.seed);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--base: ") + e.what());
    }
    ensure_fd_limit(uint64_t{parsed->shape.counts.total()} * 2 +
                        uint64_t{parsed->shards} * parsed->half_open + 512,
                    "--half-open/--leechers/--blackhole");
  } catch (const UsageError& e) {
    std::cerr << "swarmdial demo: " << e.what() << "\n";
    return 2;
  }
  const DemoConfig& cfg = *parsed;
  bool show_status = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));
  std::error_code ec;
  fs::create_directories(cfg.out_dir, ec);
  if (ec || ::access(cfg.out_dir.c_str(), W_OK) != 0) {
    std::cerr << "swarmdial demo: --out " << cfg.out_dir << ": cannot create or write\n";
    return 2;
  }

  SignalWatcher::block_signals();
  std::atomic<bool> stop{false}, abort{false};
  SignalWatcher signals(stop, abort);

  std::unique_ptr<TempDir> tmp;
  DemoTorrent torrent;
  try {
    tmp = std::make_unique<TempDir>();
    if (!cfg.quiet)
      std::fprintf(stderr, "creating a %s torrent of random data in %s\n",
                   human_bytes(static_cast<double>(cfg.size_bytes)).c_str(), tmp->path.c_str());
    torrent = make_demo_torrent(tmp->path, cfg.size_bytes, cfg.piece_length, cfg.shape.seed);
  } catch (const std::exception& e) {
    std::cerr << "swarmdial demo: " << e.what() << "\n";
    return 1;
  }
  const Metainfo& meta = torrent.meta;
  PieceStore store(meta, torrent.data_path);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (!store.verify(cores, nullptr).empty()) {
    std::cerr << "swarmdial demo: the demo data failed its own verification\n";
    return 1;
  }

  SwarmOptions so;
  so.meta = &meta;
  so.peers = plan;
  so.pipeline = cfg.shape.pipeline;
  so.slow_accept_ns = cfg.shape.slow_accept_ms * 1'000'000;
  so.slow_read_bytes_per_s = cfg.shape.slow_rate;
  so.seed = cfg.shape.seed;
  EmulatedSwarm swarm(so);
  try {
    swarm.start();
  } catch (const std::exception& e) {
    std::cerr << "swarmdial demo: " << e.what() << "\n";
    return 1;
  }
  if (!cfg.quiet)
    std::fprintf(stderr,
                 "emulated swarm on %s..: %u peers (%u leechers, %u slow, %u dead, %u black "
                 "holes); seeding with half-open %u x %u shard(s), %.0f SYN/s\n",
                 format_ip(cfg.shape.base).c_str(), cfg.shape.counts.total(),
                 cfg.shape.counts.leechers, cfg.shape.counts.slow, cfg.shape.counts.dead,
                 cfg.shape.counts.blackhole, cfg.half_open, cfg.shards, cfg.rate);

  SeedConfig sc;
  sc.backend = Backend::kUring;
  sc.shards = cfg.shards;
  sc.half_open = cfg.half_open;
  sc.rate = cfg.rate;
  sc.timeout_ms = cfg.timeout_ms;
  sc.workers = cfg.workers;
  sc.unchoke_slots = cfg.unchoke_slots;
  sc.max_peers = cfg.shape.counts.total() + 16;
  sc.duration_s = cfg.max_seconds;
  // The report maps one row per peer to the swarm's ground truth, and the
  // emulated peers never turn a first connection away: no re-dials.
  sc.redials = 0;
  std::vector<Endpoint> dial_list;
  std::unordered_map<uint64_t, PeerBehaviour> behaviour_of;
  for (const auto& p : plan) {
    dial_list.push_back(p.addr);
    behaviour_of[endpoint_key(p.addr)] = p.behaviour;
  }

  // Rows of flows that did not connect, by the behaviour the swarm gave them.
  std::array<std::array<uint64_t, kOutcomeCount>, kBehaviourCount> by_behaviour{};
  uint64_t unknown_rows = 0;
  std::vector<ChartSample> samples;
  double last_t = 0;
  uint64_t last_est = 0, last_up = 0;
  SeedHooks hooks;
  hooks.on_row = [&](const ResultRow& row) {
    auto it = behaviour_of.find(endpoint_key(row.target));
    if (it == behaviour_of.end()) {
      ++unknown_rows;
      return;
    }
    ++by_behaviour[static_cast<size_t>(it->second)][static_cast<size_t>(row.outcome)];
  };
  if (show_status)
    hooks.every_second = [&](const SeedTick& t) {
      std::fprintf(stderr, "%s | %s\n", seed_status_line(t).c_str(), swarm_status(swarm).c_str());
    };
  uint64_t fast = cfg.shape.counts.leechers;
  hooks.done = [&](const SeedTick& t) {
    if (samples.empty() || t.t_s - last_t >= 0.25) {
      double dt = samples.empty() ? t.t_s : t.t_s - last_t;
      uint64_t est = t.view.outcomes[static_cast<int>(Outcome::kEstablished)];
      dt = std::max(dt, 1e-3);
      samples.push_back({t.t_s, static_cast<double>(t.view.half_open),
                         static_cast<double>(t.view.budget), (est - last_est) / dt,
                         (t.pool.bytes_up - last_up) / dt / 1e6});
      last_t = t.t_s;
      last_est = est;
      last_up = t.pool.bytes_up;
    }
    return t.view.final_rows() >= dial_list.size() &&
           swarm.counters(PeerBehaviour::kLeecher).completed.get() >= fast;
  };
  SeedResult result;
  std::random_device rd;
  PeerId peer_id = make_peer_id((uint64_t{rd()} << 32) ^ rd());
  int rc = run_seeding(sc, meta, store, peer_id, dial_list, {stop, abort}, hooks, result);
  swarm.stop();
  if (rc != 0) return rc;

  SummaryContext ctx;
  ctx.command = "demo";
  ctx.backend = "uring";
  ctx.duration_s = result.duration_s;
  ctx.interrupted = signals.fired();
  ctx.forced = signals.forced();
  nlohmann::json dial = build_summary(result.view, ctx);
  nlohmann::json by = nlohmann::json::object();
  for (size_t b = 0; b < kBehaviourCount; ++b) {
    nlohmann::json row = nlohmann::json::object();
    uint64_t not_connected = 0;
    for (int o = 0; o < kOutcomeCount; ++o) {
      if (o == static_cast<int>(Outcome::kEstablished)) continue;
      row[std::string(outcome_name(static_cast<Outcome>(o)))] = by_behaviour[b][o];
      not_connected += by_behaviour[b][o];
    }
    // Established flows go to the pool, not to rows: the rest of the
    // behaviour's targets, once every target has its final outcome.
    uint64_t planned = swarm.planned(static_cast<PeerBehaviour>(b));
    row["established"] = planned - std::min(planned, not_connected);
    by[std::string(behaviour_name(static_cast<PeerBehaviour>(b)))] = row;
  }
  dial["by_behaviour"] = by;
  dial["rows_outside_swarm"] = unknown_rows;
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
  report["swarm"] = swarm_view_json(swarm, false);
  report["swarm"]["peers"] = plan.size();
  report["dial"] = dial;
  report["seed"] = {{"peers_served", result.pool.peers_served},
                    {"bytes_up", result.pool.bytes_up},
                    {"pieces_served", result.pool.pieces_served},
                    {"blocks_served", result.pool.blocks_served},
                    {"upload_bytes_per_s", static_cast<double>(result.pool.bytes_up) /
                                               std::max(1e-9, result.duration_s)}};
  report["leechers_completed"] = swarm.counters(PeerBehaviour::kLeecher).completed.get();
  report["duration_s"] = result.duration_s;
  report["interrupted"] = signals.fired();
  report["timeline"] = nlohmann::json::array();
  for (const auto& s : samples)
    report["timeline"].push_back({s.t_s, s.half_open, s.established_per_s, s.upload_mb_per_s});

  std::string chart = cfg.out_dir + "/chart.svg";
  if (std::string err = write_chart_svg(samples, chart); !err.empty()) {
    std::fprintf(stderr, "swarmdial demo: %s\n", err.c_str());
    chart.clear();
  }
  report["chart"] = chart;
  {
    std::ofstream out(cfg.out_dir + "/report.json", std::ios::trunc);
    out << report.dump(2) << "\n";
    if (!out) {
      std::cerr << "swarmdial demo: " << cfg.out_dir << "/report.json: write failed\n";
      return 1;
    }
  }
  print_report(report, cfg.out_dir, chart);
  return 0;
}

}  // namespace swarmdial
