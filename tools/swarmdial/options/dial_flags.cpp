#include "dial_flags.hpp"

#include <thread>

#include "dpdk_flags.hpp"
#include "partition_flags.hpp"

namespace swarmdial {

namespace po = boost::program_options;

void add_target_options(po::options_description& group) {
  group.add_options()("targets", po::value<std::string>(),
                      "file of addr:port lines, or - for stdin")(
      "range", po::value<std::string>(), "CIDR:PORTS, e.g. 127.0.1.0/24:6881-6889")(
      "exclude", po::value<std::string>(), "file of CIDRs never to dial")(
      "seed", po::value<uint64_t>(), "seed of the pseudorandom target order");
}

void read_target_flags(const po::variables_map& vm, DialConfig& cfg) {
  if (vm.count("targets") && vm.count("range"))
    throw UsageError("--targets and --range are mutually exclusive");
  if (!vm.count("targets") && !vm.count("range"))
    throw UsageError("one of --targets FILE or --range CIDR:PORTS is required");
  if (vm.count("targets")) cfg.targets_file = vm["targets"].as<std::string>();
  if (vm.count("range")) {
    auto text = vm["range"].as<std::string>();
    cfg.range = parse_target_range(text);
    cfg.range_text = text;
    if (!cfg.range)
      throw UsageError("--range: '" + text +
                       "' is not CIDR:PORTS (e.g. 127.0.1.0/24:80,6881-6889)");
    if (!TargetSet::from_range(*cfg.range))
      throw UsageError("--range: '" + text + "' has more than 2^48 targets");
  }
  if (vm.count("exclude")) cfg.exclude_file = vm["exclude"].as<std::string>();
  if (vm.count("seed")) cfg.seed = vm["seed"].as<uint64_t>();
  cfg.partition = read_partition_flags(vm, cfg.seed.has_value());
}

void add_engine_options(po::options_description& group, int64_t default_timeout_ms) {
  group.add_options()("backend", po::value<std::string>()->default_value("uring"),
                      "uring | epoll | dpdk")("shards", po::value<int64_t>(),
                                              "dialing threads (default: one per core)")(
      "timeout", po::value<int64_t>()->default_value(default_timeout_ms),
      "per-attempt timeout, ms");
  add_engine_address_options(group);
}

void read_engine_flags(const po::variables_map& vm, DialConfig& cfg) {
  cfg.backend = read_backend_flag(vm);
  int64_t shards = vm.count("shards") ? vm["shards"].as<int64_t>()
                                      : std::max<int64_t>(1, std::thread::hardware_concurrency());
  if (shards < 1 || shards > 256) throw UsageError("--shards: must be between 1 and 256");
  cfg.shards = static_cast<uint32_t>(shards);
  cfg.shards_given = vm.count("shards") > 0;
  cfg.timeout_ms = vm["timeout"].as<int64_t>();
  if (cfg.timeout_ms < 1 || cfg.timeout_ms > 600'000)
    throw UsageError("--timeout: must be between 1 and 600000 ms");
  EngineAddressFlags addresses = read_engine_address_flags(vm, cfg.backend);
  cfg.sources = std::move(addresses.sources);
  cfg.dpdk_args = std::move(addresses.dpdk_args);
  cfg.gateway = addresses.gateway;
}

}  // namespace swarmdial
