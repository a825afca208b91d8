#include "dial_config.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli_parse.hpp"
#include "dial_flags.hpp"
#include "half_open_flags.hpp"
#include "partition_flags.hpp"

namespace swarmdial {

namespace po = boost::program_options;

namespace {

[[noreturn]] void fail(const std::string& flag, const std::string& why) {
  throw UsageError("--" + flag + ": " + why);
}

po::options_description dial_options() {
  po::options_description targets("Targets");
  add_target_options(targets);
  add_partition_options(targets);
  targets.add_options()("max-targets", po::value<int64_t>(), "stop after this many targets");
  po::options_description engine("Engine");
  add_engine_options(engine, 3000);
  engine.add_options()("rate", po::value<double>()->default_value(10000),
                       "SYN/s over all shards, 0 = unlimited")(
      "retries", po::value<int64_t>()->default_value(0), "retries of a timed-out target")(
      "duration", po::value<double>()->default_value(0), "stop new SYNs after S seconds");
  add_half_open_options(engine, 256, 4096);
  po::options_description output("Output");
  output.add_options()("output", po::value<std::string>()->default_value("-"),
                       "result rows, - = stdout")(
      "format", po::value<std::string>()->default_value("csv"), "csv | jsonl")(
      "summary", po::value<std::string>(), "write the summary JSON here")(
      "metrics", po::value<std::string>(), "serve Prometheus /metrics on ADDR:PORT")(
      "bt-infohash", po::value<std::string>(), "do the BitTorrent handshake for this info-hash")(
      "bt-timeout", po::value<int64_t>()->default_value(5000), "BitTorrent handshake timeout, ms")(
      "hold", po::bool_switch(), "keep established connections open until exit")(
      "quiet", po::bool_switch(), "no status line")(
      "status", po::bool_switch(), "status line even when stderr is not a terminal");
  po::options_description all(
      "swarmdial dial: open TCP connections to many targets inside a strict half-open budget");
  all.add(targets).add(engine).add(output);
  all.add_options()("config", po::value<std::string>(), "INI file with the same keys")("help,h",
                                                                                       "this help");
  return all;
}

template <typename T>
T get(const po::variables_map& vm, const char* key) {
  return vm[key].as<T>();
}

}  // namespace

std::optional<DialConfig> parse_dial_args(const std::vector<std::string>& args,
                                          std::string& help_out) {
  po::options_description desc = dial_options();
  po::variables_map vm;
  if (!parse_cli(args, desc,
                 "swarmdial dial --range 127.0.1.0/24:6881 --half-open 512 --rate 20000 --timeout "
                 "1000 --output results.csv --summary summary.json",
                 vm, help_out))
    return std::nullopt;

  DialConfig cfg;
  read_target_flags(vm, cfg);
  if (vm.count("max-targets")) {
    int64_t n = get<int64_t>(vm, "max-targets");
    if (n < 1) fail("max-targets", "must be at least 1");
    cfg.max_targets = static_cast<uint64_t>(n);
  }
  read_engine_flags(vm, cfg);

  HalfOpenFlags ho = read_half_open_flags(vm);
  cfg.half_open = ho.half_open;
  cfg.half_open_auto = ho.adaptive;
  cfg.half_open_min = ho.half_open_min;

  cfg.rate = get<double>(vm, "rate");
  if (!(cfg.rate >= 0) || cfg.rate > 1e9)
    fail("rate", "must be between 0 (unlimited) and 1e9 SYN/s");

  int64_t retries = get<int64_t>(vm, "retries");
  if (retries < 0 || retries > 16) fail("retries", "must be between 0 and 16");
  cfg.retries = static_cast<uint32_t>(retries);

  cfg.duration_s = get<double>(vm, "duration");
  if (!(cfg.duration_s >= 0)) fail("duration", "must be 0 or more seconds");

  cfg.output = get<std::string>(vm, "output");
  auto format = get<std::string>(vm, "format");
  if (format == "csv")
    cfg.format = RowFormat::kCsv;
  else if (format == "jsonl")
    cfg.format = RowFormat::kJsonl;
  else
    fail("format", "'" + format + "' is not one of csv, jsonl");
  if (vm.count("summary")) cfg.summary_file = get<std::string>(vm, "summary");
  if (vm.count("metrics")) {
    auto text = get<std::string>(vm, "metrics");
    cfg.metrics = parse_endpoint(text);
    if (!cfg.metrics) fail("metrics", "'" + text + "' is not ADDR:PORT");
  }
  if (vm.count("bt-infohash")) {
    auto text = get<std::string>(vm, "bt-infohash");
    cfg.bt_infohash = parse_info_hash_hex(text);
    if (!cfg.bt_infohash) fail("bt-infohash", "'" + text + "' is not 40 hex digits");
  }
  cfg.bt_timeout_ms = get<int64_t>(vm, "bt-timeout");
  if (cfg.bt_timeout_ms < 1 || cfg.bt_timeout_ms > 600'000)
    fail("bt-timeout", "must be between 1 and 600000 ms");
  cfg.hold = get<bool>(vm, "hold");
  cfg.quiet = get<bool>(vm, "quiet");
  cfg.status = get<bool>(vm, "status");
  if (cfg.quiet && cfg.status) throw UsageError("--quiet and --status are mutually exclusive");
  return cfg;
}

}  // namespace swarmdial
