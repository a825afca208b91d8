#include "demo_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>
#include <unordered_map>

#include "demo_torrent.hpp"
#include "report/demo_report.hpp"
#include "report/status_lines.hpp"
#include "report/swarm_report.hpp"
#include "seed_run.hpp"
#include "signal_watcher.hpp"
#include "tools/swarmdial/options/demo_config.hpp"
#include "tools/swarmdial/options/swarm_shape_options.hpp"
#include "uring/fd_limit.hpp"

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

// Returns 0 (--help printed), 2 (a bad flag, one line printed) or -1 to go on.
int parse(const std::vector<std::string>& args, DemoConfig& cfg, std::vector<SwarmPeer>& plan) {
  std::string help;
  try {
    auto parsed = parse_demo_args(args, help);
    if (!parsed) {
      std::cout << help;
      return 0;
    }
    cfg = *parsed;
    try {
      plan = plan_swarm(cfg.shape.counts, cfg.shape.base, cfg.shape.port, cfg.shape.seed);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--base: ") + e.what());
    }
    ensure_fd_limit(
        uint64_t{cfg.shape.counts.total()} * 2 + uint64_t{cfg.shards} * cfg.half_open + 512,
        "--half-open/--leechers/--blackhole");
    std::error_code ec;
    fs::create_directories(cfg.out_dir, ec);
    if (ec || ::access(cfg.out_dir.c_str(), W_OK) != 0)
      throw UsageError("--out " + cfg.out_dir + ": cannot create or write");
  } catch (const UsageError& e) {
    std::cerr << "swarmdial demo: " << e.what() << "\n";
    return 2;
  }
  return -1;
}

SeedConfig seed_config(const DemoConfig& cfg) {
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
  return sc;
}

// The run's hooks: rows by behaviour, the chart's samples, the end once
// every target has an outcome and every leecher has completed.
SeedHooks demo_hooks(const DemoConfig& cfg, const EmulatedSwarm& swarm,
                     const std::vector<SwarmPeer>& plan, DemoRun& run, bool show_status) {
  auto behaviour_of = std::make_shared<std::unordered_map<uint64_t, PeerBehaviour>>();
  for (const auto& p : plan) (*behaviour_of)[endpoint_key(p.addr)] = p.behaviour;
  SeedHooks hooks;
  hooks.on_row = [&run, behaviour_of](const ResultRow& row) {
    auto it = behaviour_of->find(endpoint_key(row.target));
    if (it == behaviour_of->end()) return void(++run.rows_outside_swarm);
    ++run.by_behaviour[static_cast<size_t>(it->second)][static_cast<size_t>(row.outcome)];
  };
  if (show_status)
    hooks.every_second = [&swarm](const SeedTick& t) {
      std::fprintf(stderr, "%s | %s\n", seed_status_line(t).c_str(), swarm_status(swarm).c_str());
    };
  hooks.done = [&run, &swarm, targets = plan.size(), fast = uint64_t{cfg.shape.counts.leechers},
                last = SeedTick{}](const SeedTick& t) mutable {
    if (run.samples.empty() || t.t_s - last.t_s >= 0.25) {
      double dt = std::max(run.samples.empty() ? t.t_s : t.t_s - last.t_s, 1e-3);
      uint64_t est = t.view.outcomes[static_cast<int>(Outcome::kEstablished)];
      uint64_t last_est = last.view.outcomes[static_cast<int>(Outcome::kEstablished)];
      run.samples.push_back({t.t_s, static_cast<double>(t.view.half_open),
                             static_cast<double>(t.view.budget), (est - last_est) / dt,
                             (t.pool.bytes_up - last.pool.bytes_up) / dt / 1e6});
      last = t;
    }
    return t.view.final_rows() >= targets &&
           swarm.counters(PeerBehaviour::kLeecher).completed.get() >= fast;
  };
  return hooks;
}

}  // namespace

int run_demo_command(const std::vector<std::string>& args) {
  DemoConfig cfg;
  std::vector<SwarmPeer> plan;
  if (int rc = parse(args, cfg, plan); rc >= 0) return rc;
  bool show_status = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));
  SignalWatcher::block_signals();
  std::atomic<bool> stop{false}, abort{false};
  SignalWatcher signals(stop, abort);
  std::unique_ptr<TempDir> tmp;
  DemoTorrent torrent;
  std::unique_ptr<EmulatedSwarm> swarm;
  try {
    tmp = std::make_unique<TempDir>();
    if (!cfg.quiet)
      std::fprintf(stderr, "creating a %s torrent of random data in %s\n",
                   human_bytes(static_cast<double>(cfg.size_bytes)).c_str(), tmp->path.c_str());
    torrent = make_demo_torrent(tmp->path, cfg.size_bytes, cfg.piece_length, cfg.shape.seed);
    swarm = std::make_unique<EmulatedSwarm>(swarm_options(cfg.shape, torrent.meta, plan));
    swarm->start();
  } catch (const std::exception& e) {
    std::cerr << "swarmdial demo: " << e.what() << "\n";
    return 1;
  }
  PieceStore store(torrent.meta, torrent.data_path);
  if (!store.verify(std::max(1u, std::thread::hardware_concurrency()), nullptr).empty()) {
    std::cerr << "swarmdial demo: the demo data failed its own verification\n";
    return 1;
  }
  if (!cfg.quiet)
    std::fprintf(stderr,
                 "emulated swarm on %s..: %u peers (%u leechers, %u slow, %u dead, %u black "
                 "holes); seeding with half-open %u x %u shard(s), %.0f SYN/s\n",
                 format_ip(cfg.shape.base).c_str(), cfg.shape.counts.total(),
                 cfg.shape.counts.leechers, cfg.shape.counts.slow, cfg.shape.counts.dead,
                 cfg.shape.counts.blackhole, cfg.half_open, cfg.shards, cfg.rate);
  DemoRun run;
  SeedHooks hooks = demo_hooks(cfg, *swarm, plan, run, show_status);
  std::vector<DialTarget> dial_list;
  for (const auto& p : plan) dial_list.push_back(p.addr);
  SeedResult result;
  std::random_device rd;
  PeerId peer_id = make_peer_id((uint64_t{rd()} << 32) ^ rd());
  int rc = run_seeding(seed_config(cfg), {SeedTorrent{&torrent.meta, &store}}, peer_id, dial_list,
                       {stop, abort}, hooks, result);
  swarm->stop();
  if (rc != 0) return rc;

  run.meta = &torrent.meta;
  run.swarm = swarm.get();
  run.peers = plan.size();
  run.result = &result;
  run.ctx.command = "demo";
  run.ctx.backend = "uring";
  run.ctx.duration_s = result.duration_s;
  run.ctx.interrupted = signals.fired();
  run.ctx.forced = signals.forced();
  run.chart = cfg.out_dir + "/chart.svg";
  if (std::string err = write_chart_svg(run.samples, run.chart); !err.empty()) {
    std::fprintf(stderr, "swarmdial demo: %s\n", err.c_str());
    run.chart.clear();
  }
  nlohmann::json report = demo_report_json(run);
  if (std::string err = write_summary_file(cfg.out_dir + "/report.json", report, "--out");
      !err.empty()) {
    std::cerr << "swarmdial demo: " << err << "\n";
    return 1;
  }
  print_demo_report(report, cfg.out_dir);
  return 0;
}

}  // namespace swarmdial
