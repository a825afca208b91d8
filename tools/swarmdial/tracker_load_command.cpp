#include "tracker_load_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "engine/mono_clock.hpp"
#include "report/load_timeline.hpp"
#include "report/status_lines.hpp"
#include "report/summaries.hpp"
#include "signal_watcher.hpp"
#include "tools/swarmdial/options/tracker_load_config.hpp"
#include "uring/tracker/tracker_load_driver.hpp"

namespace swarmdial {

namespace {

// A timeline row each second, and the status line, while the generator
// runs on its own thread.
void watch(const TrackerLoadConfig& cfg, const LoadCounters& counters,
           const std::atomic<bool>& finished, LoadTimeline& timeline) {
  bool show_status = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));
  int64_t start = mono_ns(), last = start;
  while (!finished.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int64_t now = mono_ns();
    if (now - last < 1'000'000'000) continue;
    timeline.sample(counters, (now - start) / 1e9);
    last = now;
    if (!show_status || counters.sent.get() == 0) continue;
    std::fprintf(stderr, "%s\n",
                 tracker_load_status_line(counters, (now - start) / 1e9,
                                          timeline.last_row()["ok_per_s"].get<double>(),
                                          timeline.last_row()["offered_per_s"].get<double>())
                     .c_str());
  }
  timeline.sample(counters, (mono_ns() - start) / 1e9);  // the last part of a second
}

// `tracker-load --compare A.json B.json` sends nothing.
std::optional<int> compare_mode(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--compare") == args.end()) return std::nullopt;
  if (args.size() != 3 || args[0] != "--compare") {
    std::cerr << "swarmdial tracker-load: --compare A.json B.json takes two summaries and no "
                 "other flag\n";
    return 2;
  }
  try {
    std::cout << compare_load_summaries(args[1], args[2]);
  } catch (const UsageError& e) {
    std::cerr << "swarmdial tracker-load: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace

int run_tracker_load_command(const std::vector<std::string>& args) {
  if (auto rc = compare_mode(args)) return *rc;
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
  SignalWatcher::block_signals();
  std::atomic<bool> stop{false}, abort{false};
  SignalWatcher signals(stop, abort);
  LoadCounters counters;
  TrackerLoadDriver driver(cfg.load, counters);
  TrackerLoadReport report{&cfg.load, &counters};
  std::atomic<bool> finished{false};
  std::thread gen([&] {
    report.result = driver.run(stop, abort);
    finished.store(true);
  });
  LoadTimeline timeline(cfg.load.reannounce_interval ? 0 : cfg.load.rate, cfg.load.duration_s);
  watch(cfg, counters, finished, timeline);
  gen.join();
  if (!report.result.fatal.empty()) {
    std::cerr << "swarmdial tracker-load: " << report.result.fatal << "\n";
    return 1;
  }
  report.interrupted = signals.fired();
  report.forced = signals.forced();
  nlohmann::json s = tracker_load_summary(report);
  s["timeline"] = timeline.json();
  s["latency_spectrum"] = latency_spectrum(counters.latency.snapshot());
  if (!cfg.summary_file.empty()) {
    if (std::string err = write_summary_file(cfg.summary_file, s); !err.empty()) {
      std::cerr << "swarmdial tracker-load: " << err << "\n";
      return 1;
    }
  }
  if (!cfg.plot_file.empty()) {
    if (std::string err = write_load_plot(s, cfg.plot_file); !err.empty()) {
      std::cerr << "swarmdial tracker-load: --plot " << cfg.plot_file << ": " << err << "\n";
      return 1;
    }
  }
  if (!cfg.quiet)
    std::fprintf(stderr,
                 "tracker-load: %lu sent, %lu ok, %lu errors; %.0f/s achieved of %.0f/s offered; "
                 "latency p50 %lu us p99 %lu us\n",
                 s["sent"].get<unsigned long>(), s["ok"].get<unsigned long>(),
                 s["error_total"].get<unsigned long>(), s["achieved_rate"].get<double>(),
                 s["offered_rate"].get<double>(), s["latency_us"]["p50"].get<unsigned long>(),
                 s["latency_us"]["p99"].get<unsigned long>());
  return 0;
}

}  // namespace swarmdial
