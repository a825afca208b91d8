#include "dial_command.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "dpdk_run.hpp"
#include "engine/metrics_text.hpp"
#include "engine/mono_clock.hpp"
#include "engine/shard.hpp"
#include "engine/status_line.hpp"
#include "engine/summary.hpp"
#include "input_files.hpp"
#include "metrics_http_server.hpp"
#include "result_writer.hpp"
#include "signal_watcher.hpp"
#include "tools/swarmdial/options/dial_config.hpp"
#include "uring/dial/dialer_factory.hpp"
#include "uring/dial/handoff_consumer.hpp"
#include "uring/dial/uring_dialer.hpp"

namespace swarmdial {

namespace {

constexpr size_t kRowQueueSize = 1 << 16;
constexpr size_t kHandoffQueueSize = 1 << 14;

uint64_t random_seed() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) ^ rd();
}

struct Run {
  DialConfig cfg;
  TargetSet targets;
  ExcludeList exclude;
  uint64_t max_held = 0;  // fds left for --hold / --bt-infohash flows
};

constexpr uint64_t kFdHeadroom = 64;        // stdio, ring fds, metrics, output files
constexpr uint64_t kMinConsumerFds = 1024;  // --hold/--bt-infohash need room beyond the dialer

Run prepare(const DialConfig& cfg) {
  Run run{cfg, TargetSet{}, ExcludeList{}};
  if (cfg.range) {
    run.targets = *TargetSet::from_range(*cfg.range);
  } else {
    run.targets = TargetSet::from_list(load_targets_file(cfg.targets_file));
  }
  if (!cfg.exclude_file.empty()) run.exclude = load_exclude_file(cfg.exclude_file);
  // With io_uring direct descriptors, in-flight sockets live in each ring's
  // own table: only one shard's budget must fit under RLIMIT_NOFILE (the
  // kernel checks it per registration). Plain fds (epoll) need the sum.
  bool direct = cfg.backend == Backend::kUring && probe_uring_features().direct_chain;
  uint64_t dial_fds = (direct ? cfg.half_open : uint64_t{cfg.shards} * cfg.half_open) + kFdHeadroom;
  if (cfg.backend == Backend::kDpdk) dial_fds = kFdHeadroom;  // handshakes live in mbufs
  bool consume = cfg.hold || cfg.bt_infohash;
  std::string why = direct ? "--half-open " + std::to_string(cfg.half_open)
                           : "--half-open " + std::to_string(cfg.half_open) + " x --shards " +
                                 std::to_string(cfg.shards);
  uint64_t limit = ensure_fd_limit(dial_fds + (consume ? kMinConsumerFds : 0), why);
  if (consume) {
    // Held flows get whatever the hard limit allows beyond the dialer's share.
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < lim.rlim_max) {
      lim.rlim_cur = lim.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &lim) == 0) limit = lim.rlim_max;
    }
    // Flows in flight between shard and consumer hold fds too.
    uint64_t in_queues = std::min<uint64_t>(kHandoffQueueSize * cfg.shards, limit / 4);
    run.max_held = limit > dial_fds + in_queues ? limit - dial_fds - in_queues : 0;
  }
  return run;
}

}  // namespace

int run_dial_command(const std::vector<std::string>& args) {
  std::string help;
  std::optional<DialConfig> parsed;
  std::optional<Run> prepared;
  std::FILE* out = nullptr;
  try {
    parsed = parse_dial_args(args, help);
    if (!parsed) {
      std::cout << help;
      return 0;
    }
    prepared.emplace(prepare(*parsed));
    if (parsed->output == "-") {
      out = stdout;
    } else {
      out = std::fopen(parsed->output.c_str(), "w");
      if (!out)
        throw UsageError("--output " + parsed->output + ": cannot open: " + std::strerror(errno));
    }
    if (!parsed->summary_file.empty()) {
      std::ofstream probe(parsed->summary_file, std::ios::app);
      if (!probe)
        throw UsageError("--summary " + parsed->summary_file + ": cannot open for writing");
    }
  } catch (const UsageError& e) {
    std::cerr << "swarmdial dial: " << e.what() << "\n";
    return 2;
  }
  const DialConfig& cfg = prepared->cfg;
  // Before EAL starts its own threads: a thread that left SIGTERM unblocked
  // would take the signal with its default action and kill the run unflushed.
  SignalWatcher::block_signals();
  std::unique_ptr<DpdkRun> dpdk;
  if (cfg.backend == Backend::kDpdk) {
    try {
      dpdk = open_dpdk(cfg);
      prepared->cfg.shards = dpdk->shards();
    } catch (const std::exception& e) {
      std::cerr << "swarmdial dial: " << e.what() << "\n";
      return 2;
    }
  }

  std::atomic<bool> stop{false}, abort{false}, shards_done{false}, consumer_done{false};
  std::atomic<bool> forwarding_done{false};
  SignalWatcher signals(stop, abort);

  uint32_t n = cfg.shards;
  std::vector<ShardStats> stats(n);
  std::vector<std::unique_ptr<SpscQueue<ResultRow>>> row_queues;
  std::vector<std::unique_ptr<HandoffQueue>> handoffs;
  bool consume = cfg.hold || cfg.bt_infohash.has_value();
  for (uint32_t i = 0; i < n; ++i) {
    row_queues.push_back(std::make_unique<SpscQueue<ResultRow>>(kRowQueueSize));
    if (consume) handoffs.push_back(std::make_unique<HandoffQueue>(kHandoffQueueSize));
  }
  SpscQueue<ResultRow> consumer_rows(kRowQueueSize);

  std::unique_ptr<MetricsHttpServer> metrics;
  HandoffConsumerStats consumer_stats;
  if (cfg.metrics) {
    try {
      metrics = std::make_unique<MetricsHttpServer>(*cfg.metrics, [&] {
        PeerGauges peers;
        peers.outbound = consumer_stats.held.get();
        return render_prometheus(snapshot_run(stats), peers);
      });
    } catch (const std::exception& e) {
      std::cerr << "swarmdial dial: " << e.what() << "\n";
      return 1;
    }
  }

  std::vector<SpscQueue<ResultRow>*> writer_inputs;
  for (auto& q : row_queues) writer_inputs.push_back(q.get());
  writer_inputs.push_back(&consumer_rows);
  ResultWriter writer(out,
                      RowFormatter(cfg.format == RowFormat::kJsonl, cfg.bt_infohash.has_value()),
                      writer_inputs);
  std::atomic<bool> writer_stop{false};
  std::thread writer_thread([&] { writer.run(writer_stop); });

  int64_t start = mono_ns();
  uint64_t seed = cfg.seed.value_or(random_seed());
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> shard_errors(n);
  std::vector<std::thread> shard_threads;
  std::vector<std::unique_ptr<Shard>> shards;
  for (uint32_t i = 0; i < n; ++i) {
    ShardConfig sc;
    sc.index = i;
    sc.shard_count = n;
    sc.budget = cfg.half_open;
    sc.rate = cfg.rate / n;
    sc.timeout_ns = cfg.timeout_ms * 1'000'000;
    sc.retries = cfg.retries;
    sc.backoff = Backoff{sc.timeout_ns, sc.timeout_ns * 64};
    sc.max_targets = cfg.max_targets;
    sc.seed = seed;
    sc.stop_at_ns = cfg.duration_s > 0 ? start + static_cast<int64_t>(cfg.duration_s * 1e9) : 0;
    sc.cpu = n <= cores ? static_cast<int>(i % cores) : -1;
    sc.targets = &prepared->targets;
    sc.exclude = prepared->exclude.empty() ? nullptr : &prepared->exclude;
    sc.forwarding_done = &forwarding_done;
    Backend backend = cfg.backend;
    DialerFactory factory = [backend](const DialerOptions& o) { return make_dialer(backend, o); };
    if (dpdk) {
      factory = dpdk->factory();  // the dpdk dialer owns the source pool (one port range per shard)
    } else {
      sc.sources = cfg.sources;
    }
    shards.push_back(std::make_unique<Shard>(sc, factory, stats[i], *row_queues[i],
                                             consume ? handoffs[i].get() : nullptr, stop, abort,
                                             start));
  }
  for (uint32_t i = 0; i < n; ++i)
    shard_threads.emplace_back([&, i] { shard_errors[i] = shards[i]->run(); });

  std::unique_ptr<HandoffConsumer> consumer;
  std::thread consumer_thread;
  if (consume) {
    HandoffConsumerOptions co;
    co.info_hash = cfg.bt_infohash;
    co.peer_id = make_peer_id(seed);
    co.bt_timeout_ns = cfg.bt_timeout_ms * 1'000'000;
    co.hold = cfg.hold;
    co.max_held = prepared->max_held;
    std::vector<HandoffQueue*> inputs;
    for (auto& h : handoffs) inputs.push_back(h.get());
    consumer = std::make_unique<HandoffConsumer>(co, inputs, consumer_rows, consumer_stats);
    consumer_thread = std::thread([&] { consumer->run(consumer_done, abort); });
  }

  bool show_status = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));
  RunView prev = snapshot_run(stats);
  int64_t last_status = start;
  auto all_shards_done = [&] {
    for (auto& s : stats)
      if (!s.done.get()) return false;
    return true;
  };
  while (!all_shards_done()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int64_t now = mono_ns();
    if (show_status && now - last_status >= 1'000'000'000) {
      RunView v = snapshot_run(stats);
      std::string line =
          format_status_line((now - start) / 1e9, v, prev, (now - last_status) / 1e9);
      if (cfg.hold) line += " held " + human_count(static_cast<double>(consumer_stats.held.get()));
      std::fprintf(stderr, "%s\n", line.c_str());
      prev = v;
      last_status = now;
    }
  }
  int64_t dial_end = mono_ns();
  // --hold: connections stay open until a signal or the --duration deadline.
  if (cfg.hold) {
    int64_t deadline = cfg.duration_s > 0 ? start + static_cast<int64_t>(cfg.duration_s * 1e9) : 0;
    while (!stop.load() && (deadline == 0 || mono_ns() < deadline))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  consumer_done.store(true, std::memory_order_release);
  if (consumer_thread.joinable()) consumer_thread.join();
  // Only now may the dpdk shards stop forwarding for the flows they handed off.
  forwarding_done.store(true, std::memory_order_release);
  for (auto& t : shard_threads) t.join();
  writer_stop.store(true, std::memory_order_release);
  writer_thread.join();
  if (out != stdout)
    std::fclose(out);
  else
    std::fflush(stdout);

  RunView final_view = snapshot_run(stats);
  if (show_status) {
    std::string line = format_status_line((dial_end - start) / 1e9, final_view, prev,
                                          (dial_end - last_status) / 1e9);
    std::fprintf(stderr, "%s (done)\n", line.c_str());
  }
  SummaryContext ctx;
  ctx.backend = backend_name(cfg.backend);
  ctx.duration_s = (dial_end - start) / 1e9;
  ctx.interrupted = signals.fired();
  ctx.forced = signals.forced();
  ctx.with_bt = cfg.bt_infohash.has_value();
  ctx.with_wire = cfg.backend == Backend::kDpdk;
  ctx.bt = consumer_stats.bt_counts();
  ctx.with_hold = cfg.hold;
  ctx.held = consumer_stats.held.get();
  ctx.hold_overflow = consumer_stats.hold_overflow.get();
  if (!cfg.summary_file.empty()) {
    std::ofstream s(cfg.summary_file, std::ios::trunc);
    s << build_summary(final_view, ctx).dump(2) << "\n";
    if (!s) {
      std::cerr << "swarmdial dial: --summary " << cfg.summary_file << ": write failed\n";
      return 1;
    }
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!shard_errors[i].empty()) {
      std::cerr << "swarmdial dial: shard " << i << ": " << shard_errors[i] << "\n";
      return 1;
    }
  }
  if (writer.write_failed()) {
    std::cerr << "swarmdial dial: --output " << cfg.output << ": write failed\n";
    return 1;
  }
  return 0;
}

}  // namespace swarmdial
