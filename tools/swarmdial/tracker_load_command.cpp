#include "tracker_load_command.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/mono_clock.hpp"
#include "engine/status_line.hpp"
#include "signal_watcher.hpp"
#include "tools/swarmdial/options/dial_config.hpp"
#include "tools/swarmdial/options/tracker_load_config.hpp"
#include "uring/tracker/tracker_load_driver.hpp"

namespace swarmdial {

namespace {

uint64_t error_total(const LoadCounters& c) {
  uint64_t n = 0;
  for (const auto& e : c.errors) n += e.get();
  return n;
}

std::string status_line(const LoadCounters& c, double t_s, double rate_now, double target) {
  auto lat = c.latency.snapshot();
  int secs = static_cast<int>(t_s);
  char buf[320];
  std::snprintf(
      buf, sizeof buf,
      "%d:%02d sent %s ok %s errors %s (timeout %s) rate %s/s of %s/s p50 %lu us p99 "
      "%lu us",
      secs / 60, secs % 60, human_count(static_cast<double>(c.sent.get())).c_str(),
      human_count(static_cast<double>(c.ok.get())).c_str(),
      human_count(static_cast<double>(error_total(c))).c_str(),
      human_count(static_cast<double>(c.errors[static_cast<size_t>(LoadError::kTimeout)].get()))
          .c_str(),
      human_count(rate_now).c_str(), human_count(target).c_str(),
      static_cast<unsigned long>(lat.percentile_us(0.5)),
      static_cast<unsigned long>(lat.percentile_us(0.99)));
  return buf;
}

nlohmann::json percentiles(const LatencyHistogram::Snapshot& s) {
  return {{"count", s.total},
          {"p50", s.percentile_us(0.50)},
          {"p90", s.percentile_us(0.90)},
          {"p99", s.percentile_us(0.99)},
          {"p999", s.percentile_us(0.999)},
          {"max", s.max_us}};
}

}  // namespace

int run_tracker_load_command(const std::vector<std::string>& args) {
  std::string help;
  std::optional<TrackerLoadConfig> parsed;
  try {
    parsed = parse_tracker_load_args(args, help);
    if (!parsed) {
      std::cout << help;
      return 0;
    }
  } catch (const UsageError& e) {
    std::cerr << "swarmdial tracker-load: " << e.what() << "\n";
    return 2;
  }
  const TrackerLoadConfig& cfg = *parsed;
  bool show_status = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));

  SignalWatcher::block_signals();
  std::atomic<bool> stop{false}, abort{false};
  SignalWatcher signals(stop, abort);
  LoadCounters counters;
  TrackerLoadDriver driver(cfg.load, counters);
  LoadResult result;
  std::atomic<bool> finished{false};
  std::thread gen([&] {
    result = driver.run(stop, abort);
    finished.store(true);
  });
  int64_t start = mono_ns(), last = start;
  uint64_t last_ok = 0;
  while (!finished.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int64_t now = mono_ns();
    if (show_status && now - last >= 1'000'000'000 && counters.sent.get() > 0) {
      uint64_t ok = counters.ok.get();
      double rate_now = static_cast<double>(ok - last_ok) / ((now - last) / 1e9);
      std::fprintf(stderr, "%s\n",
                   status_line(counters, (now - start) / 1e9, rate_now, cfg.load.rate).c_str());
      last = now;
      last_ok = ok;
    }
  }
  gen.join();
  if (!result.fatal.empty()) {
    std::cerr << "swarmdial tracker-load: " << result.fatal << "\n";
    return 1;
  }

  uint64_t sent = counters.sent.get(), ok = counters.ok.get();
  double d = std::max(result.duration_s, 1e-9);
  nlohmann::json errors = nlohmann::json::object();
  for (size_t i = 0; i < counters.errors.size(); ++i)
    errors[std::string(load_error_name(static_cast<LoadError>(i)))] = counters.errors[i].get();
  nlohmann::json trackers = nlohmann::json::array();
  for (const auto& t : cfg.load.trackers) trackers.push_back(t.text);
  nlohmann::json s = {
      {"command", "tracker-load"},
      {"trackers", trackers},
      {"interrupted", signals.fired()},
      {"forced_exit", signals.forced()},
      {"target_rate", cfg.load.rate},
      {"duration_s", result.duration_s},
      {"sent", sent},
      {"ok", ok},
      {"errors", errors},
      {"error_total", error_total(counters)},
      {"achieved_rate", static_cast<double>(ok) / d},
      {"sent_rate", static_cast<double>(sent) / d},
      {"achieved_vs_target", static_cast<double>(ok) / d / cfg.load.rate},
      {"latency_us", percentiles(counters.latency.snapshot())},
      {"send_lag_us", percentiles(counters.send_lag.snapshot())},
      {"stray_replies", counters.stray_replies.get()},
      {"udp", {{"announces", counters.udp_sent.get()}, {"connects", counters.udp_connects.get()}}},
      {"http",
       {{"announces", counters.http_sent.get()}, {"connections", counters.http_connects.get()}}},
      {"swarm", {{"torrents", cfg.load.torrents}, {"peers_per_torrent", cfg.load.peers}}},
      {"cpu",
       {{"generator_s", result.cpu_s},
        {"us_per_announce", sent ? result.cpu_s * 1e6 / static_cast<double>(sent) : 0.0}}},
  };
  if (!cfg.summary_file.empty()) {
    std::ofstream out(cfg.summary_file, std::ios::trunc);
    out << s.dump(2) << "\n";
    if (!out) {
      std::cerr << "swarmdial tracker-load: --summary " << cfg.summary_file << ": write failed\n";
      return 1;
    }
  }
  if (!cfg.quiet)
    std::fprintf(stderr,
                 "tracker-load: %lu sent, %lu ok, %lu errors; %.0f/s achieved of %.0f/s target; "
                 "latency p50 %lu us p99 %lu us\n",
                 static_cast<unsigned long>(sent), static_cast<unsigned long>(ok),
                 static_cast<unsigned long>(error_total(counters)), static_cast<double>(ok) / d,
                 cfg.load.rate,
                 static_cast<unsigned long>(counters.latency.snapshot().percentile_us(0.5)),
                 static_cast<unsigned long>(counters.latency.snapshot().percentile_us(0.99)));
  return 0;
}

}  // namespace swarmdial
