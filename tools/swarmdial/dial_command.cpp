#include "dial_command.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "engine/metrics_text.hpp"
#include "engine/mono_clock.hpp"
#include "engine/shard_group.hpp"
#include "input_files.hpp"
#include "metrics_http_server.hpp"
#include "open_backend.hpp"
#include "report/status_lines.hpp"
#include "report/summaries.hpp"
#include "result_writer.hpp"
#include "signal_watcher.hpp"
#include "tools/swarmdial/options/dial_config.hpp"
#include "uring/dial/handoff_consumer.hpp"
#include "uring/ring.hpp"

namespace swarmdial {

namespace {

constexpr uint64_t kMinConsumerFds = 1024;  // --hold/--bt-infohash need room beyond the dialer

struct DialInput {
  DialConfig cfg;
  TargetSet targets;
  ExcludeList exclude;
  std::FILE* out = nullptr;
  bool consume() const { return cfg.hold || cfg.bt_infohash.has_value(); }
};

// Returns 0 (--help printed), 2 (a bad flag or file, one line printed) or -1 to go on.
int parse(const std::vector<std::string>& args, DialInput& in) {
  std::string help;
  try {
    auto parsed = parse_dial_args(args, help);
    if (!parsed) {
      std::cout << help;
      return 0;
    }
    in.cfg = *parsed;
    if (in.cfg.range)
      in.targets = *TargetSet::from_range(*in.cfg.range);
    else
      in.targets = TargetSet::from_list(load_targets_file(in.cfg.targets_file));
    if (!in.cfg.exclude_file.empty()) in.exclude = load_exclude_file(in.cfg.exclude_file);
    in.out = in.cfg.output == "-" ? stdout : std::fopen(in.cfg.output.c_str(), "w");
    if (!in.out)
      throw UsageError("--output " + in.cfg.output + ": cannot open: " + std::strerror(errno));
    if (!in.cfg.summary_file.empty() && !std::ofstream(in.cfg.summary_file, std::ios::app))
      throw UsageError("--summary " + in.cfg.summary_file + ": cannot open for writing");
  } catch (const UsageError& e) {
    std::cerr << "swarmdial dial: " << e.what() << "\n";
    return 2;
  }
  return -1;
}

// A target file is named by its content, not its path: every node of a
// partitioned run may keep its copy somewhere else.
std::string target_fingerprint(const TargetSet& targets) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint64_t i = 0; i < targets.size(); ++i)
    h = (h ^ endpoint_hash(targets.at(i))) * 0x100000001b3ULL;
  char buf[64];
  std::snprintf(buf, sizeof buf, "file:%llu:%016llx",
                static_cast<unsigned long long>(targets.size()),
                static_cast<unsigned long long>(h));
  return buf;
}

BackendOptions backend_options(const DialConfig& cfg, bool consume) {
  BackendOptions o;
  o.kind = cfg.backend;
  o.shards = cfg.shards;
  o.shards_given = cfg.shards_given;
  o.half_open = cfg.half_open;
  o.sources = cfg.sources;
  o.dpdk_args = cfg.dpdk_args;
  o.gateway = cfg.gateway;
  o.handoff = consume;
  o.consumer_fds = consume ? kMinConsumerFds : 0;
  o.consumer_fds_why = cfg.hold ? "--hold" : "--bt-infohash";
  return o;
}

ShardPlan shard_plan(const DialInput& in, const RunBackend& backend, int64_t start) {
  const DialConfig& cfg = in.cfg;
  ShardPlan plan;
  plan.shards = backend.shards();
  plan.half_open = cfg.half_open;
  plan.adaptive = cfg.half_open_auto;
  plan.half_open_min = cfg.half_open_min;
  plan.rate = cfg.rate;
  plan.timeout_ns = cfg.timeout_ms * 1'000'000;
  plan.retries = cfg.retries;
  plan.max_targets = cfg.max_targets;
  std::random_device rd;
  plan.seed = cfg.seed.value_or((uint64_t{rd()} << 32) ^ rd());
  plan.partition = cfg.partition;
  plan.stop_at_ns = cfg.duration_s > 0 ? start + static_cast<int64_t>(cfg.duration_s * 1e9) : 0;
  plan.pin = true;
  plan.targets = &in.targets;
  plan.exclude = in.exclude.empty() ? nullptr : &in.exclude;
  plan.sources = backend.shard_sources();
  plan.handoff = in.consume();
  return plan;
}

// The consumer of established flows (--hold, --bt-infohash) on its own thread.
struct Consumer {
  HandoffConsumerStats stats;
  SpscQueue<ResultRow> rows{1 << 16};
  std::atomic<bool> done{false};
  std::unique_ptr<HandoffConsumer> consumer;
  std::thread thread;

  void start(const DialInput& in, ShardGroup& shards, const RunBackend& backend, uint64_t seed,
             const std::atomic<bool>& abort) {
    if (!in.consume()) return;
    HandoffConsumerOptions co;
    co.info_hash = in.cfg.bt_infohash;
    co.peer_id = make_peer_id(seed);
    co.bt_timeout_ns = in.cfg.bt_timeout_ms * 1'000'000;
    co.hold = in.cfg.hold;
    // Flows in flight between shard and consumer hold fds too.
    uint64_t spare = backend.spare_fds();
    uint64_t in_queues =
        std::min<uint64_t>(uint64_t{shards.handoff_queue_capacity()} * shards.size(), spare / 4);
    co.max_held = spare > in_queues ? spare - in_queues : 0;
    consumer = std::make_unique<HandoffConsumer>(co, shards.handoff_queues(), rows, stats);
    thread = std::thread([this, &abort] { consumer->run(done, abort); });
  }
  void finish() {
    done.store(true, std::memory_order_release);
    if (thread.joinable()) thread.join();
  }
};

// Status lines until every shard has stopped dialing; then --hold keeps
// the flows until a signal or the --duration deadline. Returns when dialing ended.
int64_t watch(const DialConfig& cfg, const ShardGroup& shards, const Consumer& consumer,
              int64_t start, const std::atomic<bool>& stop) {
  bool show_status = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));
  RunView prev = shards.snapshot();
  int64_t last = start;
  while (!shards.dialing_done()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int64_t now = mono_ns();
    if (!show_status || now - last < 1'000'000'000) continue;
    RunView v = shards.snapshot();
    std::string line = format_status_line((now - start) / 1e9, v, prev, (now - last) / 1e9);
    if (cfg.hold) line += " held " + human_count(static_cast<double>(consumer.stats.held.get()));
    std::fprintf(stderr, "%s\n", line.c_str());
    prev = v;
    last = now;
  }
  int64_t dial_end = mono_ns();
  if (show_status)
    std::fprintf(stderr, "%s (done)\n",
                 format_status_line((dial_end - start) / 1e9, shards.snapshot(), prev,
                                    (dial_end - last) / 1e9)
                     .c_str());
  int64_t deadline = cfg.duration_s > 0 ? start + static_cast<int64_t>(cfg.duration_s * 1e9) : 0;
  while (cfg.hold && !stop.load() && (deadline == 0 || mono_ns() < deadline))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return dial_end;
}

int report(const DialInput& in, const ShardGroup& shards, const Consumer& consumer,
           const SignalWatcher& signals, const ResultWriter& writer, double duration_s,
           uint64_t seed) {
  const DialConfig& cfg = in.cfg;
  SummaryContext ctx;
  ctx.backend = backend_name(cfg.backend);
  ctx.duration_s = duration_s;
  ctx.interrupted = signals.fired();
  ctx.forced = signals.forced();
  ctx.adaptive = cfg.half_open_auto;
  ctx.with_bt = cfg.bt_infohash.has_value();
  ctx.with_wire = cfg.backend == Backend::kDpdk;
  ctx.bt = consumer.stats.bt_counts();
  ctx.with_hold = cfg.hold;
  ctx.held = consumer.stats.held.get();
  ctx.with_run = true;
  ctx.seed = seed;
  ctx.targets = cfg.range ? cfg.range_text : target_fingerprint(in.targets);
  ctx.target_count = in.targets.size();
  ctx.partition = cfg.partition;
  ctx.hold_overflow = consumer.stats.hold_overflow.get();
  ctx.with_rows = true;
  ctx.rows_written = writer.rows_written();
  ctx.rows_lost = writer.rows_lost();
  ctx.output_error = writer.error();
  if (cfg.summary_file.empty()) return 0;
  std::string err = write_summary_file(cfg.summary_file, build_summary(shards.snapshot(), ctx));
  if (err.empty()) return 0;
  std::cerr << "swarmdial dial: " << err << "\n";
  return 1;
}

}  // namespace

int run_dial_command(const std::vector<std::string>& args) {
  DialInput in;
  if (int rc = parse(args, in); rc >= 0) return rc;
  const DialConfig& cfg = in.cfg;
  // Before EAL starts its own threads: a thread that left SIGTERM unblocked
  // would take the signal with its default action and kill the run unflushed.
  SignalWatcher::block_signals();
  std::unique_ptr<RunBackend> backend;
  try {
    backend = open_backend(backend_options(cfg, in.consume()));
  } catch (const std::exception& e) {
    std::cerr << "swarmdial dial: " << e.what() << "\n";
    return 2;
  }
  std::atomic<bool> stop{false}, abort{false};
  SignalWatcher signals(stop, abort);
  int64_t start = mono_ns();
  ShardPlan plan = shard_plan(in, *backend, start);
  ShardGroup shards(plan, backend->factory(), {stop, abort}, start);
  Consumer consumer;
  std::unique_ptr<MetricsHttpServer> metrics;
  try {
    if (cfg.metrics)
      metrics = std::make_unique<MetricsHttpServer>(*cfg.metrics, [&] {
        RingCounters rings = Ring::totals();
        return render_prometheus(shards.snapshot(), {consumer.stats.held.get(), 0}, nullptr,
                                 &rings);
      });
  } catch (const std::exception& e) {
    std::cerr << "swarmdial dial: " << e.what() << "\n";
    return 1;
  }
  auto inputs = shards.row_queues();
  inputs.push_back(&consumer.rows);
  ResultWriter writer(in.out,
                      RowFormatter(cfg.format == RowFormat::kJsonl, cfg.bt_infohash.has_value()),
                      inputs, "--output " + cfg.output);
  std::atomic<bool> writer_stop{false};
  std::thread writer_thread([&] { writer.run(writer_stop); });
  shards.start();
  consumer.start(in, shards, *backend, plan.seed, abort);

  int64_t dial_end = watch(cfg, shards, consumer, start, stop);
  consumer.finish();
  std::string shard_error = shards.finish();  // only now may dpdk shards stop forwarding
  writer_stop.store(true, std::memory_order_release);
  writer_thread.join();
  writer.close();
  std::fflush(stdout);
  if (int rc = report(in, shards, consumer, signals, writer, (dial_end - start) / 1e9, plan.seed);
      rc)
    return rc;
  if (!shard_error.empty()) {
    std::cerr << "swarmdial dial: " << shard_error << "\n";
    return 1;
  }
  if (writer.write_failed()) {
    std::cerr << "swarmdial dial: --output " << cfg.output << ": " << writer.rows_lost()
              << " rows lost (" << writer.error() << ")\n";
    return 1;
  }
  return 0;
}

}  // namespace swarmdial
