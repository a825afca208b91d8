#include "seed_command.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "engine/metrics_text.hpp"
#include "engine/mono_clock.hpp"
#include "engine/peerwire/metainfo.hpp"
#include "engine/shard.hpp"
#include "engine/status_line.hpp"
#include "engine/summary.hpp"
#include "engine/tracker/tracker_url.hpp"
#include "input_files.hpp"
#include "seed_run.hpp"
#include "signal_watcher.hpp"
#include "tools/swarmdial/options/seed_config.hpp"
#include "uring/dial/dialer_factory.hpp"
#include "uring/peers/peer_pool.hpp"
#include "uring/peers/piece_store.hpp"
#include "uring/tracker/tracker_announcer.hpp"

namespace swarmdial {

namespace {
// Each --tracker is a tier of its own; "torrent" stands for the torrent's
// announce-list tiers (URLs this build cannot use are skipped with a note).
std::vector<std::vector<std::string>> tracker_tiers(const std::vector<std::string>& flags,
                                                    const Metainfo& meta) {
  std::vector<std::vector<std::string>> tiers;
  for (const auto& t : flags) {
    if (t != "torrent") {
      tiers.push_back({t});
      continue;
    }
    for (const auto& tier : meta.announce_tiers) {
      std::vector<std::string> usable;
      for (const auto& url : tier) {
        std::string err;
        if (parse_tracker_url(url, err))
          usable.push_back(url);
        else
          std::fprintf(stderr, "swarmdial seed: skipping tracker %s: %s\n", url.c_str(),
                       err.c_str());
      }
      if (!usable.empty()) tiers.push_back(usable);
    }
  }
  return tiers;
}
}  // namespace

int run_seed_command(const std::vector<std::string>& args) {
  std::string help;
  std::optional<SeedConfig> parsed;
  Metainfo meta;
  std::vector<Endpoint> dial_list;
  try {
    parsed = parse_seed_args(args, help);
    if (!parsed) {
      std::cout << help;
      return 0;
    }
    meta = load_torrent_file(parsed->torrent_file);
    if (::access(parsed->data_path.c_str(), R_OK) != 0)
      throw UsageError("--data " + parsed->data_path + ": cannot read");
    dial_list = parsed->peers;
    if (!parsed->peers_file.empty()) {
      auto more = load_targets_file(parsed->peers_file, "peers-file");
      dial_list.insert(dial_list.end(), more.begin(), more.end());
    }
    ensure_fd_limit(uint64_t{parsed->shards} * parsed->half_open + parsed->max_peers + 256,
                    "--max-peers " + std::to_string(parsed->max_peers));
  } catch (const UsageError& e) {
    std::cerr << "swarmdial seed: " << e.what() << "\n";
    return 2;
  }
  const SeedConfig& cfg = *parsed;
  bool show_status = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));

  // From here on a signal is a request to stop and write the summary, even
  // while the pieces are verified (the run then ends as soon as it starts).
  SignalWatcher::block_signals();
  std::atomic<bool> stop{false}, abort{false};
  SignalWatcher signals(stop, abort);

  PieceStore store(meta, cfg.data_path);
  if (store.missing_files() == meta.files.size()) {
    std::cerr << "swarmdial seed: --data " << cfg.data_path << ": none of the torrent's "
              << meta.files.size() << " files is there\n";
    return 2;
  }
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  auto bad = store.verify(cores, [&](uint32_t done, uint32_t total) {
    if (show_status)
      std::fprintf(stderr, "\rverifying %u/%u pieces (%u%%)", done, total,
                   total ? static_cast<unsigned>(uint64_t{done} * 100 / total) : 100);
  });
  if (show_status) std::fprintf(stderr, "\n");
  if (!bad.empty()) {
    std::string list;
    for (size_t i = 0; i < bad.size() && i < 50; ++i)
      list += (i ? ", " : "") + std::to_string(bad[i]);
    if (bad.size() > 50) list += ", ...";
    std::cerr << "swarmdial seed: " << bad.size() << " of " << meta.num_pieces
              << " pieces failed verification and will not be served: " << list << "\n";
  }
  if (store.have_count() == 0) {
    std::cerr << "swarmdial seed: no piece verified: nothing to seed\n";
    return 1;
  }

  std::random_device rd;
  PeerId peer_id = make_peer_id((uint64_t{rd()} << 32) ^ rd());
  SeedHooks hooks;
  std::unique_ptr<TrackerAnnouncer> announcer;
  std::atomic<uint64_t> tracker_peers_new{0};
  std::set<std::pair<std::array<uint8_t, 17>, uint16_t>> known;  // announcer thread only
  auto key = [](const Endpoint& e) {
    std::array<uint8_t, 17> k{};
    k[0] = e.ip.family;
    std::copy(e.ip.bytes.begin(), e.ip.bytes.end(), k.begin() + 1);
    return std::make_pair(k, e.port);
  };
  for (const auto& e : dial_list) known.insert(key(e));
  uint16_t listen_port = 0;
  auto tiers = tracker_tiers(cfg.trackers, meta);
  if (!tiers.empty()) {
    hooks.dynamic_targets = true;
    hooks.on_started = [&](TargetFeed& feed) {
      AnnouncerOptions ao;
      ao.tiers = tiers;
      ao.request.info_hash = meta.info_hash;
      ao.request.peer_id = peer_id;
      ao.request.port = cfg.announce_port ? cfg.announce_port : listen_port ? listen_port : 6881;
      // A seed announces left=0; with corrupt pieces, what it lacks.
      uint64_t missing = uint64_t{meta.num_pieces - store.have_count()} * meta.piece_length;
      ao.request.left = std::min<uint64_t>(missing, meta.total_length);
      ao.request.key = rd();
      ao.udp_base_timeout_ns = cfg.tracker_timeout_ms * 1'000'000;
      ao.http_timeout_ns = cfg.tracker_timeout_ms * 1'000'000;
      ao.retry_base_ns = cfg.tracker_timeout_ms * 1'000'000;
      ao.on_peers = [&](const std::vector<Endpoint>& peers) {
        for (const auto& e : peers) {
          if (cfg.listen && e.port == listen_port && (e.ip == cfg.listen->ip)) continue;  // us
          if (!known.insert(key(e)).second) continue;
          if (feed.push(e)) tracker_peers_new.fetch_add(1, std::memory_order_relaxed);
        }
      };
      announcer = std::make_unique<TrackerAnnouncer>(std::move(ao));
      announcer->start();
    };
    hooks.before_stop = [&] {
      if (announcer) announcer->stop();
    };
    hooks.add_metrics = [&](SeedCounters& s) {
      if (!announcer) return;
      for (const auto& st : announcer->states()) s.trackers.push_back({st.url, st.ok, st.failed});
    };
  }
  if (show_status)
    hooks.every_second = [&](const SeedTick& t) {
      std::string line = seed_status_line(t);
      if (announcer) {
        auto states = announcer->states();
        size_t working = 0;
        for (const auto& st : states) working += st.working;
        line += " trackers " + std::to_string(working) + "/" + std::to_string(states.size()) +
                " ok, " + std::to_string(tracker_peers_new.load()) + " peers";
      }
      std::fprintf(stderr, "%s\n", line.c_str());
    };
  hooks.on_listening = [&](uint16_t port) {
    listen_port = port;
    if (!cfg.quiet)
      std::fprintf(stderr, "seeding %s (%s, %u pieces) on %s port %u\n", meta.name.c_str(),
                   info_hash_hex(meta.info_hash).c_str(), meta.num_pieces,
                   format_ip(cfg.listen->ip).c_str(), port);
  };
  SeedResult result;
  if (int rc = run_seeding(cfg, meta, store, peer_id, dial_list, {stop, abort}, hooks, result);
      rc != 0)
    return rc;

  const PoolTotals& t = result.pool;
  if (!cfg.summary_file.empty()) {
    SummaryContext ctx;
    ctx.command = "seed";
    ctx.backend = backend_name(cfg.backend);
    ctx.with_wire = cfg.backend == Backend::kDpdk;
    ctx.duration_s = result.duration_s;
    ctx.interrupted = signals.fired();
    ctx.forced = signals.forced();
    nlohmann::json s = build_summary(result.view, ctx);
    nlohmann::json disc = nlohmann::json::object();
    for (auto& [reason, count] : disconnect_list(t)) disc[reason] = count;
    s["seed"] = {{"torrent", meta.name},
                 {"info_hash", info_hash_hex(meta.info_hash)},
                 {"pieces", meta.num_pieces},
                 {"pieces_verified", store.have_count()},
                 {"corrupt_pieces", bad},
                 {"peers_served", t.peers_served},
                 {"bytes_up", t.bytes_up},
                 {"pieces_served", t.pieces_served},
                 {"blocks_served", t.blocks_served},
                 {"upload_bytes_per_s", t.bytes_up / std::max(1e-9, result.duration_s)},
                 {"inbound",
                  {{"accepted", t.inbound_accepted},
                   {"rejected_max_peers", t.inbound_rejected_full},
                   {"rejected_rate", t.inbound_rejected_rate}}},
                 {"disconnects", disc},
                 {"redial", redial_json(result.redial)}};
    if (announcer) {
      nlohmann::json tr = nlohmann::json::array();
      for (const auto& st : announcer->states())
        tr.push_back({{"url", st.url},
                      {"announces_ok", st.ok},
                      {"announces_failed", st.failed},
                      {"peers_received", st.peers},
                      {"interval_s", st.interval_s},
                      {"last_error", st.last_error},
                      {"warning", st.warning},
                      {"ignored_datagrams", st.ignored_datagrams},
                      {"last_ignored", st.last_ignored}});
      s["trackers"] = tr;
      s["tracker_peers_new"] = tracker_peers_new.load();
    }
    std::ofstream out(cfg.summary_file, std::ios::trunc);
    out << s.dump(2) << "\n";
    if (!out) {
      std::cerr << "swarmdial seed: --summary " << cfg.summary_file << ": write failed\n";
      return 1;
    }
  }
  if (show_status)
    std::fprintf(stderr, "served %s in %lu pieces to %lu peers\n",
                 human_bytes(static_cast<double>(t.bytes_up)).c_str(),
                 static_cast<unsigned long>(t.pieces_served),
                 static_cast<unsigned long>(t.peers_served));
  return 0;
}

}  // namespace swarmdial
