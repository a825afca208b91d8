#include "seed_run.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "dpdk_run.hpp"
#include "engine/metrics_text.hpp"
#include "engine/mono_clock.hpp"
#include "engine/shard.hpp"
#include "engine/status_line.hpp"
#include "metrics_http_server.hpp"
#include "uring/dial/dialer_factory.hpp"

namespace swarmdial {

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

nlohmann::json redial_json(const RedialCounts& r) {
  nlohmann::json by = nlohmann::json::object(), gave = nlohmann::json::object();
  for (size_t i = 0; i < RedialCounts::kCauses; ++i) {
    std::string name(redial_cause_name(static_cast<RedialCause>(i)));
    if (r.redials[i]) by[name] = r.redials[i];
    if (r.given_up[i]) gave[name] = r.given_up[i];
  }
  return {
      {"redials", r.redials_total()},    {"by_cause", by},       {"given_up", r.given_up_total()},
      {"given_up_by_cause", gave},       {"pending", r.pending}, {"peers_complete", r.complete},
      {"not_redialled", r.not_redialled}};
}

std::string seed_status_line(const SeedTick& t) {
  int secs = static_cast<int>(t.t_s);
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      "%d:%02d peers %lu (out %lu in %lu) up %s/s served %s pieces syn %s est %s refused %s "
      "timeout %s half-open %lu/%lu",
      secs / 60, secs % 60,
      static_cast<unsigned long>(t.pool.peers_outbound + t.pool.peers_inbound),
      static_cast<unsigned long>(t.pool.peers_outbound),
      static_cast<unsigned long>(t.pool.peers_inbound), human_bytes(t.up_rate).c_str(),
      human_count(static_cast<double>(t.pool.pieces_served)).c_str(),
      human_count(static_cast<double>(t.view.syn_sent)).c_str(),
      human_count(static_cast<double>(t.view.outcomes[static_cast<int>(Outcome::kEstablished)]))
          .c_str(),
      human_count(static_cast<double>(t.view.outcomes[static_cast<int>(Outcome::kRefused)]))
          .c_str(),
      human_count(static_cast<double>(t.view.outcomes[static_cast<int>(Outcome::kTimeout)]))
          .c_str(),
      static_cast<unsigned long>(t.view.half_open), static_cast<unsigned long>(t.view.budget));
  std::string line = buf;
  if (t.redial.redials_total() || t.redial.given_up_total())
    line += " redials " + human_count(static_cast<double>(t.redial.redials_total())) +
            " given up " + human_count(static_cast<double>(t.redial.given_up_total()));
  return line;
}

namespace {
SeedCounters seed_counters(const PoolTotals& t, const RedialCounts& r) {
  SeedCounters s;
  for (size_t i = 0; i < RedialCounts::kCauses; ++i) {
    std::string name(redial_cause_name(static_cast<RedialCause>(i)));
    s.redials.emplace_back(name, r.redials[i]);
    s.given_up.emplace_back(name, r.given_up[i]);
  }
  s.inbound_accepted = t.inbound_accepted;
  s.inbound_rejected_full = t.inbound_rejected_full;
  s.inbound_rejected_rate = t.inbound_rejected_rate;
  s.upload_bytes = t.bytes_up;
  s.pieces_served = t.pieces_served;
  s.disconnects = disconnect_list(t);
  return s;
}
}  // namespace

int run_seeding(const SeedConfig& cfg, const Metainfo& meta, const PieceStore& store,
                const PeerId& peer_id, const std::vector<Endpoint>& dial_list, RunFlags flags,
                const SeedHooks& hooks, SeedResult& result) {
  std::atomic<bool>& stop = flags.stop;
  std::atomic<bool>& abort = flags.abort;
  SessionConfig session;
  session.info_hash = meta.info_hash;
  session.peer_id = peer_id;
  session.num_pieces = meta.num_pieces;
  session.piece_length = meta.piece_length;
  session.total_length = meta.total_length;
  session.have = &store.have_bitfield();
  session.have_count = store.have_count();

  // With dpdk the port, the TAP and the engine's addresses come first: the
  // pool's listener binds to those addresses, and the shards' loops carry
  // every packet of every peer, inbound ones too, so they run even with
  // nothing to dial.
  std::unique_ptr<DpdkRun> dpdk;
  if (cfg.backend == Backend::kDpdk) {
    DialConfig dc;
    dc.backend = Backend::kDpdk;
    dc.sources = cfg.addresses.sources;
    dc.dpdk_args = cfg.addresses.dpdk_args;
    dc.gateway = cfg.addresses.gateway;
    dc.shards = cfg.shards;
    dc.shards_given = true;
    dc.half_open = cfg.half_open;
    dc.hold = true;  // established flows become kernel sockets for the pool
    try {
      dpdk = open_dpdk(dc);
    } catch (const std::exception& e) {
      std::cerr << "swarmdial seed: " << e.what() << "\n";
      return 2;
    }
  }
  std::atomic<bool> forwarding_done{false};

  // Dialing: the same shards, budgets and pacing as `dial`, handing every
  // established flow to the pool. Every shard has a feed: tracker peers and
  // re-dials arrive while it runs.
  uint32_t n = dial_list.empty() && !hooks.dynamic_targets ? 0 : cfg.shards;
  if (dpdk) n = dpdk->shards();
  TargetSet targets = TargetSet::from_list(dial_list);
  std::vector<ShardStats> stats(std::max(1u, n));
  std::vector<std::unique_ptr<SpscQueue<ResultRow>>> rows;
  std::vector<std::unique_ptr<HandoffQueue>> handoffs;
  std::vector<HandoffQueue*> pool_inputs;
  std::vector<std::unique_ptr<SpscQueue<Endpoint>>> feeds;
  std::vector<SpscQueue<Endpoint>*> feed_ptrs;
  for (uint32_t i = 0; i < n; ++i) {
    feeds.push_back(std::make_unique<SpscQueue<Endpoint>>(1 << 14));
    feed_ptrs.push_back(feeds.back().get());
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
    std::cerr << "swarmdial: " << e.what() << "\n";
    return 1;
  }
  if (cfg.listen && hooks.on_listening) hooks.on_listening(pool.listen_port());

  std::random_device rd;
  RedialPlanner planner({cfg.redials, cfg.redial_delay_ms * 1'000'000, 60'000'000'000,
                         (uint64_t{rd()} << 32) ^ rd()});
  // The metrics thread reads a copy the run loop refreshes.
  std::mutex redial_copy_mu;
  RedialCounts redial_copy;

  std::unique_ptr<MetricsHttpServer> metrics;
  if (cfg.metrics) {
    try {
      metrics = std::make_unique<MetricsHttpServer>(*cfg.metrics, [&] {
        PoolTotals t = pool.totals();
        RedialCounts r;
        {
          std::lock_guard lock(redial_copy_mu);
          r = redial_copy;
        }
        SeedCounters s = seed_counters(t, r);
        if (hooks.add_metrics) hooks.add_metrics(s);
        return render_prometheus(snapshot_run(stats), {t.peers_outbound, t.peers_inbound}, &s);
      });
    } catch (const std::exception& e) {
      std::cerr << "swarmdial: " << e.what() << "\n";
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
    sc.feed = feed_ptrs[i];
    sc.forwarding_done = &forwarding_done;
    Backend backend = cfg.backend;
    DialerFactory factory = [backend](const DialerOptions& o) { return make_dialer(backend, o); };
    if (dpdk)
      factory = dpdk->factory();
    else
      sc.sources = cfg.addresses.sources;
    shards.push_back(std::make_unique<Shard>(sc, factory, stats[i], *rows[i], handoffs[i].get(),
                                             stop, abort, start));
    threads.emplace_back([&, i] { shards[i]->run(); });
  }

  TargetFeed feed(feed_ptrs);
  if (hooks.on_started) hooks.on_started(feed);

  // Dial outcomes and ended sessions feed the re-dial planner; due re-dials
  // go back to the shards through the feed, and through the budget.
  auto drain_rows = [&](int64_t now) {
    for (auto& q : rows)
      while (auto row = q->try_pop()) {
        if (row->outcome != Outcome::kEstablished)
          planner.on_connect_failed(row->target, row->outcome, now);
        if (hooks.on_row) hooks.on_row(*row);
      }
  };
  auto plan_redials = [&](int64_t now) {
    drain_rows(now);
    while (auto e = pool.pop_ended()) planner.on_session_end(e->peer, e->end, now);
    if (n > 0) planner.take_due(now, [&](const Endpoint& e) { return feed.push(e); });
    std::lock_guard lock(redial_copy_mu);
    redial_copy = planner.counts();
  };

  int64_t deadline = cfg.duration_s > 0 ? start + static_cast<int64_t>(cfg.duration_s * 1e9) : 0;
  int64_t last = start;
  uint64_t last_up = 0, last_est = 0;
  SeedTick tick;
  while (!stop.load() && (deadline == 0 || mono_ns() < deadline)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int64_t now = mono_ns();
    plan_redials(now);
    tick.t_s = (now - start) / 1e9;
    tick.view = snapshot_run(stats);
    tick.pool = pool.totals();
    tick.redial = planner.counts();
    if (now - last >= 1'000'000'000) {
      uint64_t est = tick.view.outcomes[static_cast<int>(Outcome::kEstablished)];
      tick.up_rate = static_cast<double>(tick.pool.bytes_up - last_up) / ((now - last) / 1e9);
      tick.est_rate = static_cast<double>(est - last_est) / ((now - last) / 1e9);
      if (hooks.every_second) hooks.every_second(tick);
      last = now;
      last_up = tick.pool.bytes_up;
      last_est = est;
    }
    if (hooks.done && hooks.done(tick)) break;
  }
  if (hooks.before_stop && !abort.load()) hooks.before_stop();
  stop.store(true);
  // The pool closes its peers first: with dpdk their last segments still
  // travel through the shards' loops, which stop forwarding only after.
  pool.stop();
  forwarding_done.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  drain_rows(mono_ns());
  // Flows handed off after the pool stopped are ours to close.
  for (auto& h : handoffs)
    while (auto f = h->try_pop()) ::close(f->fd);
  result.duration_s = (mono_ns() - start) / 1e9;
  result.view = snapshot_run(stats);
  result.pool = pool.totals();
  result.redial = planner.counts();
  return 0;
}

}  // namespace swarmdial
