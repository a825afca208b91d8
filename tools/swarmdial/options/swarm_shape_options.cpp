#include "swarm_shape_options.hpp"

#include "cli_parse.hpp"
#include "dial_config.hpp"

namespace swarmdial {

namespace po = boost::program_options;

po::options_description swarm_shape_options(const ShapeDefaults& d) {
  po::options_description o("Swarm");
  o.add_options()("leechers", po::value<int64_t>()->default_value(d.leechers),
                  "peers that download and verify the whole torrent")(
      "slow", po::value<int64_t>()->default_value(d.slow),
      "leechers that start late and read slowly")("dead",
                                                  po::value<int64_t>()->default_value(d.dead),
                                                  "addresses where nothing listens (refused)")(
      "blackhole", po::value<int64_t>()->default_value(d.blackhole),
      "listeners with a full accept queue (SYNs time out)")(
      "base", po::value<std::string>()->default_value(d.base),
      "peers take the addresses after this one, in 127.0.0.0/8")(
      "port", po::value<int64_t>()->default_value(6881), "every peer's TCP port")(
      "pipeline", po::value<int64_t>()->default_value(32), "block requests in flight per leecher")(
      "slow-accept", po::value<int64_t>()->default_value(2000),
      "ms a slow peer waits before it speaks")(
      "slow-rate", po::value<double>()->default_value(256 * 1024),
      "bytes/s a slow peer reads at most")("swarm-seed", po::value<int64_t>()->default_value(1),
                                           "shuffles which address plays which behaviour");
  return o;
}

SwarmShape swarm_shape_from(const po::variables_map& vm) {
  SwarmShape s;
  s.counts.leechers = flag_in_range(vm, "leechers", 0, 100'000);
  s.counts.slow = flag_in_range(vm, "slow", 0, 100'000);
  s.counts.dead = flag_in_range(vm, "dead", 0, 1'000'000);
  s.counts.blackhole = flag_in_range(vm, "blackhole", 0, 100'000);
  if (s.counts.total() == 0) throw UsageError("--leechers: the swarm has no peers");
  auto base = vm["base"].as<std::string>();
  auto ip = parse_ip(base);
  if (!ip || !ip->is_v4() || ip->bytes[0] != 127)
    throw UsageError("--base: '" + base + "' is not an address in 127.0.0.0/8");
  s.base = *ip;
  s.port = static_cast<uint16_t>(flag_in_range(vm, "port", 1, 65535));
  s.pipeline = flag_in_range(vm, "pipeline", 1, 1024);
  s.slow_accept_ms = flag_in_range(vm, "slow-accept", 0, 60'000);
  s.slow_rate = flag_non_negative(vm, "slow-rate");
  if (s.slow_rate < 1024) throw UsageError("--slow-rate: must be at least 1024 bytes/s");
  s.seed = static_cast<uint64_t>(vm["swarm-seed"].as<int64_t>());
  return s;
}

SwarmOptions swarm_options(const SwarmShape& shape, const Metainfo& meta,
                           const std::vector<SwarmPeer>& plan) {
  SwarmOptions so;
  so.meta = &meta;
  so.peers = plan;
  so.pipeline = shape.pipeline;
  so.slow_accept_ns = shape.slow_accept_ms * 1'000'000;
  so.slow_read_bytes_per_s = shape.slow_rate;
  so.seed = shape.seed;
  return so;
}

}  // namespace swarmdial
