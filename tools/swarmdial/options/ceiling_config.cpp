#include "ceiling_config.hpp"

#include <fmt/format.h>

#include <boost/program_options.hpp>

#include "cli_parse.hpp"
#include "dial_flags.hpp"
#include "partition_flags.hpp"
#include "tracker_load_config.hpp"

namespace swarmdial {

namespace po = boost::program_options;

namespace {

double real_in(const po::variables_map& vm, const char* flag, double lo, double hi, bool lo_open) {
  double v = vm[flag].as<double>();
  if (!(lo_open ? v > lo : v >= lo) || !(v <= hi))
    throw UsageError(fmt::format("--{}: must be {} {:g} and at most {:g}", flag,
                                 lo_open ? "above" : "at least", lo, hi));
  return v;
}

po::options_description ceiling_options() {
  po::options_description targets("Targets (connections/s)");
  add_target_options(targets);
  add_partition_options(targets);
  po::options_description engine("Engine");
  add_engine_options(engine, 1000);
  engine.add_options()("half-open-max", po::value<int64_t>()->default_value(4096),
                       "the most half-open slots a step may hold per shard (each step gets "
                       "rate x timeout, with room to spare, up to this)");
  po::options_description tracker("Tracker (announces/s, instead of targets)");
  add_tracker_swarm_options(tracker);
  po::options_description search("Search");
  search.add_options()("start-rate", po::value<double>()->default_value(100),
                       "first step, per second; its answered share is the baseline")(
      "max-rate", po::value<double>()->default_value(100000), "highest step, per second")(
      "step-duration", po::value<double>()->default_value(5), "seconds each step is measured")(
      "warmup", po::value<double>()->default_value(2),
      "seconds each step runs before it is measured; cover the longest state on the path "
      "(a NAT keeps an unanswered SYN 120 s)")(
      "precision", po::value<double>()->default_value(0.02),
      "stop when the lowest failing rate is within this share of the highest passing one")(
      "max-answer-drop", po::value<double>()->default_value(0.05),
      "a step fails when its answered share falls this far under the first step's (relative)")(
      "max-p99", po::value<double>()->default_value(500),
      "a step fails when the p99 latency of answered attempts, from their scheduled time, is "
      "over this many ms");
  po::options_description output("Output");
  output.add_options()("summary", po::value<std::string>(),
                       "write every step and the ceiling as JSON")(
      "plot", po::value<std::string>(), "draw the steps and the ceiling as SVG (gnuplot)")(
      "quiet", po::bool_switch(), "no status line per step")(
      "status", po::bool_switch(), "status lines even when stderr is not a terminal");
  po::options_description all(
      "swarmdial ceiling: the highest rate a path sustains, by open-loop steps (exponential, "
      "then bisection); the table goes to stdout");
  all.add(targets).add(engine).add(tracker).add(search).add(output);
  all.add_options()("config", po::value<std::string>(), "INI file with the same keys")("help,h",
                                                                                       "this help");
  return all;
}

}  // namespace

std::optional<CeilingConfig> parse_ceiling_args(const std::vector<std::string>& args,
                                                std::string& help_out) {
  po::options_description desc = ceiling_options();
  po::variables_map vm;
  if (!parse_cli(
          args, desc,
          "swarmdial ceiling --range 198.18.3.0/24:10000-10099 --timeout 1000 --start-rate "
          "200 --max-rate 50000 --summary ceiling.json --plot ceiling.svg\n"
          "  swarmdial ceiling --tracker udp://127.0.0.1:6969 --start-rate 1000 --max-p99 50",
          vm, help_out))
    return std::nullopt;
  CeilingConfig c;
  c.tracker_mode = vm.count("tracker") > 0;
  if (c.tracker_mode) {
    if (vm.count("targets") || vm.count("range"))
      throw UsageError("--tracker and --targets/--range are mutually exclusive");
    read_tracker_swarm_flags(vm, c.tracker);
    for (const auto& u : c.tracker.trackers)
      c.target_text += (c.target_text.empty() ? "" : " + ") + u.text;
    c.tracker.timeout_ms = flag_in_range(vm, "timeout", 10, 600'000);
  } else {
    if (!vm.count("targets") && !vm.count("range"))
      throw UsageError("one of --targets FILE, --range CIDR:PORTS or --tracker URL is required");
    read_target_flags(vm, c.dial);
    c.target_text = c.dial.range ? c.dial.range_text : c.dial.targets_file;
    read_engine_flags(vm, c.dial);
    c.half_open_max = flag_in_range(vm, "half-open-max", 1, 1'000'000);
  }
  CeilingLimits& l = c.limits;
  l.start_rate = real_in(vm, "start-rate", 0, 1e8, true);
  l.max_rate = real_in(vm, "max-rate", 0, 1e8, true);
  if (l.max_rate < l.start_rate)
    throw UsageError("--max-rate: " + std::to_string(static_cast<int64_t>(l.max_rate)) +
                     " is under --start-rate " +
                     std::to_string(static_cast<int64_t>(l.start_rate)));
  l.precision = real_in(vm, "precision", 0, 0.5, true);
  l.max_answer_drop = real_in(vm, "max-answer-drop", 0, 0.99, true);
  l.max_p99_ms = real_in(vm, "max-p99", 0, 3'600'000, true);
  c.step_duration_s = real_in(vm, "step-duration", 0, 3600, true);
  c.warmup_s = real_in(vm, "warmup", 0, 3600, false);
  if (vm.count("summary")) c.summary_file = vm["summary"].as<std::string>();
  if (vm.count("plot")) c.plot_file = vm["plot"].as<std::string>();
  c.quiet = vm["quiet"].as<bool>();
  c.status = vm["status"].as<bool>();
  if (c.quiet && c.status) throw UsageError("--quiet and --status are mutually exclusive");
  return c;
}

}  // namespace swarmdial
