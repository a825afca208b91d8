#include "ceiling_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "ceiling_probes.hpp"
#include "input_files.hpp"
#include "open_backend.hpp"
#include "report/ceiling_report.hpp"
#include "report/summaries.hpp"
#include "signal_watcher.hpp"
#include "tools/swarmdial/options/ceiling_config.hpp"

namespace swarmdial {

namespace {

constexpr const char* kName = "swarmdial ceiling: ";

struct CeilingInput {
  CeilingConfig cfg;
  TargetSet targets;
  ExcludeList exclude;
};

// Returns 0 (--help printed), 2 (a bad flag or file, one line printed) or -1 to go on.
int parse(const std::vector<std::string>& args, CeilingInput& in) {
  std::string help;
  try {
    auto parsed = parse_ceiling_args(args, help);
    if (!parsed) {
      std::cout << help;
      return 0;
    }
    in.cfg = *parsed;
    const DialConfig& d = in.cfg.dial;
    if (!in.cfg.tracker_mode) {
      if (d.range)
        in.targets = *TargetSet::from_range(*d.range);
      else
        in.targets = TargetSet::from_list(load_targets_file(d.targets_file));
      if (!d.exclude_file.empty()) in.exclude = load_exclude_file(d.exclude_file);
      if (in.targets.size() == 0)
        throw UsageError(d.range ? "--range: no targets"
                                 : "--targets " + d.targets_file + ": no targets");
    }
    for (auto [flag, path] :
         {std::pair{"--summary", &in.cfg.summary_file}, std::pair{"--plot", &in.cfg.plot_file}})
      if (!path->empty() && !std::ofstream(*path, std::ios::app))
        throw UsageError(std::string(flag) + " " + *path + ": cannot open for writing");
  } catch (const UsageError& e) {
    std::cerr << kName << e.what() << "\n";
    return 2;
  }
  return -1;
}

}  // namespace

int run_ceiling_command(const std::vector<std::string>& args) {
  CeilingInput in;
  if (int rc = parse(args, in); rc >= 0) return rc;
  const CeilingConfig& cfg = in.cfg;
  SignalWatcher::block_signals();
  std::unique_ptr<RunBackend> backend;
  std::unique_ptr<CeilingProbe> probe;
  CeilingRunInfo info;
  info.tracker_mode = cfg.tracker_mode;
  info.target = cfg.target_text;
  info.warmup_s = cfg.warmup_s;
  info.step_duration_s = cfg.step_duration_s;
  if (cfg.tracker_mode) {
    info.timeout_ms = cfg.tracker.timeout_ms;
    probe = make_tracker_probe(cfg);
  } else {
    BackendOptions o;
    o.kind = cfg.dial.backend;
    o.shards = cfg.dial.shards;
    o.shards_given = cfg.dial.shards_given;
    o.half_open = cfg.half_open_max;  // the most any step may take
    o.sources = cfg.dial.sources;
    o.dpdk_args = cfg.dial.dpdk_args;
    o.gateway = cfg.dial.gateway;
    try {
      backend = open_backend(o);
    } catch (const UsageError& e) {
      std::cerr << kName << e.what() << "\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << kName << e.what() << "\n";
      return 1;
    }
    info.backend = backend_name(cfg.dial.backend);
    info.shards = backend->shards();
    info.timeout_ms = cfg.dial.timeout_ms;
    probe = make_dial_probe(cfg, *backend, in.targets, in.exclude.empty() ? nullptr : &in.exclude);
  }
  std::atomic<bool> stop{false}, abort{false};
  SignalWatcher signals(stop, abort);
  bool show = !cfg.quiet && (cfg.status || isatty(STDERR_FILENO));

  CeilingSearch search(cfg.limits);
  std::string failure;
  while (auto rate = search.next_rate()) {
    if (show)
      std::fprintf(stderr, "step %zu: %.0f/s for %.1f s after %.1f s warmup...\n",
                   search.steps().size() + 1, *rate, cfg.step_duration_s, cfg.warmup_s);
    std::optional<StepMeasure> m;
    try {
      m = probe->run_step(*rate, stop, abort);
    } catch (const std::exception& e) {
      failure = e.what();
      search.interrupt();
      break;
    }
    if (!m) {
      search.interrupt();
      break;
    }
    const StepRecord& r = search.record(*m);
    if (show) std::fprintf(stderr, "%s\n", ceiling_step_line(search.steps().size() - 1, r).c_str());
    if (stop.load()) search.interrupt();
  }
  info.interrupted = signals.fired();
  info.forced = signals.forced();
  if (const StepRecord* at = search.ceiling_step(); at && !cfg.tracker_mode)
    info.advice = advise_budget(*at, 0.9, cfg.dial.timeout_ms, info.shards);

  std::fputs(ceiling_table(search, info).c_str(), stdout);
  std::fflush(stdout);
  int rc = 0;
  if (!cfg.summary_file.empty()) {
    nlohmann::json s = ceiling_summary(search, info);
    if (!failure.empty()) s["error"] = failure;
    if (std::string err = write_summary_file(cfg.summary_file, s); !err.empty()) {
      std::cerr << kName << err << "\n";
      rc = 1;
    }
  }
  if (!cfg.plot_file.empty() && !search.steps().empty()) {
    if (std::string err = write_ceiling_plot(search, info, cfg.plot_file); !err.empty()) {
      std::cerr << kName << "--plot " << cfg.plot_file << ": " << err << "\n";
      rc = 1;
    }
  }
  if (!failure.empty()) {
    std::cerr << kName << failure << "\n";
    return 1;
  }
  return rc;
}

}  // namespace swarmdial
