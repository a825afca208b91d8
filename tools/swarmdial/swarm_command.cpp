#include "swarm_command.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "engine/mono_clock.hpp"
#include "engine/tracker/tracker_url.hpp"
#include "input_files.hpp"
#include "report/summaries.hpp"
#include "report/swarm_report.hpp"
#include "signal_watcher.hpp"
#include "tools/swarm/swarm_announce.hpp"
#include "tools/swarmdial/options/dial_config.hpp"
#include "tools/swarmdial/options/swarm_config.hpp"
#include "tools/swarmdial/options/swarm_shape_options.hpp"
#include "uring/fd_limit.hpp"

namespace swarmdial {

namespace {

// Returns 0 (--help printed), 2 (a bad flag or file, one line printed) or -1 to go on.
int parse(const std::vector<std::string>& args, SwarmConfig& cfg, Metainfo& meta,
          std::vector<SwarmPeer>& plan) {
  std::string help;
  try {
    auto parsed = parse_swarm_args(args, help);
    if (!parsed) {
      std::cout << help;
      return 0;
    }
    cfg = *parsed;
    meta = load_torrent_file(cfg.torrent_file);
    try {
      plan = plan_swarm(cfg.shape.counts, cfg.shape.base, cfg.shape.port, cfg.shape.seed);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--base: ") + e.what());
    }
    ensure_fd_limit(uint64_t{cfg.shape.counts.total()} * 2 + 256, "--leechers/--slow/--blackhole");
  } catch (const UsageError& e) {
    std::cerr << "swarmdial swarm: " << e.what() << "\n";
    return 2;
  }
  return -1;
}

// Publishes every peer, dead ones too: a real tracker's peer list is
// mostly peers that no longer answer. Returns the count announced per tracker.
std::map<std::string, uint64_t> announce_swarm(const SwarmConfig& cfg, const Metainfo& meta,
                                               const std::vector<SwarmPeer>& plan) {
  std::map<std::string, uint64_t> announced;
  for (const auto& t : cfg.trackers) {
    std::string err;
    TrackerUrl url = *parse_tracker_url(t, err);
    uint64_t ok = 0;
    std::string last_error;
    for (const auto& p : plan) {
      AnnounceRequest r;
      r.info_hash = meta.info_hash;
      r.peer_id = make_peer_id(cfg.shape.seed * 1'000'003 + (&p - plan.data()));
      r.port = p.addr.port;
      r.left = meta.total_length;
      r.event = AnnounceEvent::kStarted;
      r.numwant = 0;
      auto res = announce_as_peer(url, p.addr.ip, r, 2000);
      if (std::holds_alternative<AnnounceResponse>(res))
        ++ok;
      else
        last_error = std::get<std::string>(res);
    }
    if (!cfg.quiet || ok < plan.size())
      std::fprintf(stderr, "announced %lu of %zu peers to %s%s%s\n", static_cast<unsigned long>(ok),
                   plan.size(), t.c_str(),
                   last_error.empty() ? "" : "; last error: ", last_error.c_str());
    announced[t] = ok;
  }
  return announced;
}

}  // namespace

int run_swarm_command(const std::vector<std::string>& args) {
  SwarmConfig cfg;
  Metainfo meta;
  std::vector<SwarmPeer> plan;
  if (int rc = parse(args, cfg, meta, plan); rc >= 0) return rc;
  bool show_status = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));

  SignalWatcher::block_signals();
  std::atomic<bool> stop{false}, abort{false};
  SignalWatcher signals(stop, abort);

  EmulatedSwarm swarm(swarm_options(cfg.shape, meta, plan));
  try {
    swarm.start();
    if (!cfg.peers_file.empty()) write_peers_file(cfg.peers_file, plan);
  } catch (const std::exception& e) {
    std::cerr << "swarmdial swarm: " << e.what() << "\n";
    return 1;
  }
  if (!cfg.quiet)
    std::fprintf(
        stderr, "swarm of %u peers for %s: %u leechers, %u slow, %u dead, %u black holes\n",
        cfg.shape.counts.total(), info_hash_hex(meta.info_hash).c_str(), cfg.shape.counts.leechers,
        cfg.shape.counts.slow, cfg.shape.counts.dead, cfg.shape.counts.blackhole);

  std::map<std::string, uint64_t> announced = announce_swarm(cfg, meta, plan);

  int64_t start = mono_ns();
  int64_t deadline = cfg.duration_s > 0 ? start + static_cast<int64_t>(cfg.duration_s * 1e9) : 0;
  int64_t last = start;
  uint64_t want = uint64_t{cfg.shape.counts.leechers} + cfg.shape.counts.slow;
  while (!stop.load() && (deadline == 0 || mono_ns() < deadline)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (cfg.until_complete && swarm.completed() >= want) break;
    int64_t now = mono_ns();
    if (show_status && now - last >= 1'000'000'000) {
      int secs = static_cast<int>((now - start) / 1'000'000'000);
      std::fprintf(stderr, "%d:%02d %s\n", secs / 60, secs % 60, swarm_status(swarm).c_str());
      last = now;
    }
  }
  swarm.stop();
  if (!cfg.quiet) std::fprintf(stderr, "swarm done: %s\n", swarm_status(swarm).c_str());
  if (!cfg.view_file.empty()) {
    nlohmann::json view = swarm_view_json(swarm, true);
    view["torrent"] = {{"name", meta.name},
                       {"info_hash", info_hash_hex(meta.info_hash)},
                       {"bytes", meta.total_length}};
    view["duration_s"] = (mono_ns() - start) / 1e9;
    view["interrupted"] = signals.fired();
    view["forced_exit"] = signals.forced();
    view["announced"] = announced;
    if (std::string err = write_summary_file(cfg.view_file, view, "--view"); !err.empty()) {
      std::cerr << "swarmdial swarm: " << err << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace swarmdial
