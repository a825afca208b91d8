#include "seed_command.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "engine/metrics_text.hpp"
#include "engine/mono_clock.hpp"
#include "engine/peerwire/metainfo.hpp"
#include "engine/seed_config.hpp"
#include "engine/shard.hpp"
#include "engine/status_line.hpp"
#include "engine/summary.hpp"
#include "input_files.hpp"
#include "metrics_http_server.hpp"
#include "signal_watcher.hpp"
#include "uring/dialer_factory.hpp"
#include "uring/peer_pool.hpp"
#include "uring/piece_store.hpp"

namespace swarmdial {

namespace {

std::string read_torrent(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--torrent " + path + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string body = ss.str();
  if (body.size() > (64u << 20)) throw UsageError("--torrent " + path + ": larger than 64 MiB");
  return body;
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
  return buf;
}

std::vector<std::pair<std::string, uint64_t>> disconnect_list(const PoolTotals& t) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (size_t i = 1; i < t.disconnects.size(); ++i)
    if (t.disconnects[i])
      out.emplace_back(disconnect_name(static_cast<Disconnect>(i)), t.disconnects[i]);
  return out;
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
    auto m = parse_metainfo(read_torrent(parsed->torrent_file));
    if (auto* err = std::get_if<std::string>(&m))
      throw UsageError("--torrent " + parsed->torrent_file + ": " + *err);
    meta = std::get<Metainfo>(std::move(m));
    if (::access(parsed->data_path.c_str(), R_OK) != 0)
      throw UsageError("--data " + parsed->data_path + ": cannot read");
    dial_list = parsed->peers;
    if (!parsed->peers_file.empty()) {
      auto more = load_targets_file(parsed->peers_file, "peers-file");
      dial_list.insert(dial_list.end(), more.begin(), more.end());
    }
    if (parsed->backend == Backend::kDpdk)
      throw UsageError("--backend dpdk: this build has no DPDK support");
    ensure_fd_limit(uint64_t{parsed->shards} * parsed->half_open + parsed->max_peers + 256,
                    "--max-peers " + std::to_string(parsed->max_peers));
  } catch (const UsageError& e) {
    std::cerr << "swarmdial seed: " << e.what() << "\n";
    return 2;
  }
  const SeedConfig& cfg = *parsed;
  bool show_status = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));

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

  SignalWatcher::block_signals();
  std::atomic<bool> stop{false}, abort{false};
  SignalWatcher signals(stop);

  SessionConfig session;
  session.info_hash = meta.info_hash;
  std::random_device rd;
  session.peer_id = make_peer_id((uint64_t{rd()} << 32) ^ rd());
  session.num_pieces = meta.num_pieces;
  session.piece_length = meta.piece_length;
  session.total_length = meta.total_length;
  session.have = &store.have_bitfield();
  session.have_count = store.have_count();

  // Dialing: the same shards, budgets and pacing as `dial`, handing every
  // established flow to the pool.
  uint32_t n = dial_list.empty() ? 0 : cfg.shards;
  TargetSet targets = TargetSet::from_list(dial_list);
  std::vector<ShardStats> stats(std::max(1u, n));
  std::vector<std::unique_ptr<SpscQueue<ResultRow>>> rows;
  std::vector<std::unique_ptr<HandoffQueue>> handoffs;
  std::vector<HandoffQueue*> pool_inputs;
  for (uint32_t i = 0; i < n; ++i) {
    rows.push_back(std::make_unique<SpscQueue<ResultRow>>(1 << 12));
    handoffs.push_back(std::make_unique<HandoffQueue>(1 << 12));
    pool_inputs.push_back(handoffs.back().get());
  }

  PoolOptions po;
  po.workers = cfg.workers;
  po.listen = cfg.listen;
  po.max_peers = cfg.max_peers;
  po.inbound_rate = cfg.inbound_rate;
  po.upload_limit = cfg.upload_limit;
  po.unchoke_slots = cfg.unchoke_slots;
  po.zero_copy = cfg.send_zc;
  PeerPool pool(po, store, session, pool_inputs);
  try {
    pool.start();
  } catch (const std::exception& e) {
    std::cerr << "swarmdial seed: " << e.what() << "\n";
    return 1;
  }
  if (cfg.listen && !cfg.quiet)
    std::fprintf(stderr, "seeding %s (%s, %u pieces) on %s port %u\n", meta.name.c_str(),
                 info_hash_hex(meta.info_hash).c_str(), meta.num_pieces,
                 format_ip(cfg.listen->ip).c_str(), pool.listen_port());

  auto seed_counters = [](const PoolTotals& t) {
    SeedCounters s;
    s.inbound_accepted = t.inbound_accepted;
    s.inbound_rejected_full = t.inbound_rejected_full;
    s.inbound_rejected_rate = t.inbound_rejected_rate;
    s.upload_bytes = t.bytes_up;
    s.pieces_served = t.pieces_served;
    s.disconnects = disconnect_list(t);
    return s;
  };
  std::unique_ptr<MetricsHttpServer> metrics;
  if (cfg.metrics) {
    try {
      metrics = std::make_unique<MetricsHttpServer>(*cfg.metrics, [&] {
        PoolTotals t = pool.totals();
        SeedCounters s = seed_counters(t);
        return render_prometheus(snapshot_run(stats), {t.peers_outbound, t.peers_inbound}, &s);
      });
    } catch (const std::exception& e) {
      std::cerr << "swarmdial seed: " << e.what() << "\n";
      return 1;
    }
  }

  int64_t start = mono_ns();
  std::vector<std::unique_ptr<Shard>> shards;
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < n; ++i) {
    ShardConfig sc;
    sc.index = i;
    sc.shard_count = n;
    sc.budget = cfg.half_open;
    sc.rate = cfg.rate / n;
    sc.timeout_ns = cfg.timeout_ms * 1'000'000;
    sc.targets = &targets;
    Backend backend = cfg.backend;
    shards.push_back(std::make_unique<Shard>(
        sc, [backend](const DialerOptions& o) { return make_dialer(backend, o); }, stats[i],
        *rows[i], handoffs[i].get(), stop, abort, start));
    threads.emplace_back([&, i] { shards[i]->run(); });
  }

  int64_t deadline = cfg.duration_s > 0 ? start + static_cast<int64_t>(cfg.duration_s * 1e9) : 0;
  int64_t last = start;
  uint64_t last_up = 0;
  while (!stop.load() && (deadline == 0 || mono_ns() < deadline)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (auto& q : rows)
      while (q->try_pop()) {
      }
    int64_t now = mono_ns();
    if (show_status && now - last >= 1'000'000'000) {
      PoolTotals t = pool.totals();
      RunView v = snapshot_run(stats);
      double up_rate = static_cast<double>(t.bytes_up - last_up) / ((now - last) / 1e9);
      int secs = static_cast<int>((now - start) / 1'000'000'000);
      std::fprintf(
          stderr,
          "%d:%02d peers %lu (out %lu in %lu) up %s/s served %s pieces syn %s est %s half-open "
          "%lu/%lu\n",
          secs / 60, secs % 60, static_cast<unsigned long>(t.peers_outbound + t.peers_inbound),
          static_cast<unsigned long>(t.peers_outbound), static_cast<unsigned long>(t.peers_inbound),
          human_bytes(up_rate).c_str(), human_count(static_cast<double>(t.pieces_served)).c_str(),
          human_count(static_cast<double>(v.syn_sent)).c_str(),
          human_count(static_cast<double>(v.outcomes[0])).c_str(),
          static_cast<unsigned long>(v.half_open), static_cast<unsigned long>(v.budget));
      last = now;
      last_up = t.bytes_up;
    }
  }
  stop.store(true);
  for (auto& t : threads) t.join();
  pool.stop();
  // Flows handed off after the pool stopped are ours to close.
  for (auto& h : handoffs)
    while (auto f = h->try_pop()) ::close(f->fd);
  int64_t end = mono_ns();

  PoolTotals t = pool.totals();
  if (!cfg.summary_file.empty()) {
    SummaryContext ctx;
    ctx.command = "seed";
    ctx.backend = backend_name(cfg.backend);
    ctx.duration_s = (end - start) / 1e9;
    ctx.interrupted = signals.fired();
    nlohmann::json s = build_summary(snapshot_run(stats), ctx);
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
                 {"upload_bytes_per_s", t.bytes_up / std::max(1e-9, (end - start) / 1e9)},
                 {"inbound",
                  {{"accepted", t.inbound_accepted},
                   {"rejected_max_peers", t.inbound_rejected_full},
                   {"rejected_rate", t.inbound_rejected_rate}}},
                 {"disconnects", disc}};
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
