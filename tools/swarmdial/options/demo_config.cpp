#include "demo_config.hpp"

#include "cli_parse.hpp"
#include "dial_config.hpp"
#include "swarm_shape_options.hpp"

namespace swarmdial {

namespace po = boost::program_options;

std::optional<DemoConfig> parse_demo_args(const std::vector<std::string>& args,
                                          std::string& help_out) {
  po::options_description torrent("Torrent");
  torrent.add_options()("size-mib", po::value<int64_t>()->default_value(64),
                        "MiB of random data to seed")(
      "piece-kib", po::value<int64_t>()->default_value(256), "piece length in KiB (16..16384)");
  po::options_description engine("Engine");
  engine.add_options()("shards", po::value<int64_t>()->default_value(1), "dialing threads")(
      "half-open", po::value<int64_t>()->default_value(64), "half-open budget per shard")(
      "rate", po::value<double>()->default_value(2000), "SYN/s, 0 = unlimited")(
      "timeout", po::value<int64_t>()->default_value(1000), "connect timeout, ms")(
      "workers", po::value<int64_t>()->default_value(1), "peer-wire worker threads")(
      "unchoke-slots", po::value<int64_t>()->default_value(32), "peers unchoked at once");
  po::options_description output("Output");
  output.add_options()("out", po::value<std::string>()->default_value("swarmdial-demo"),
                       "directory for report.json and chart.svg")(
      "max-seconds", po::value<double>()->default_value(50),
      "end the run by then even if leechers are still downloading")("quiet", po::bool_switch(),
                                                                    "no status line")(
      "status", po::bool_switch(), "status line even when stderr is not a terminal");
  po::options_description all(
      "swarmdial demo: seed a temporary torrent to an emulated swarm on loopback, inside a "
      "half-open budget; no root, no setup");
  ShapeDefaults d;
  d.leechers = 20;
  d.slow = 10;
  d.dead = 570;
  d.blackhole = 400;
  d.base = "127.78.0.0";
  all.add(torrent).add(swarm_shape_options(d)).add(engine).add(output);
  all.add_options()("config", po::value<std::string>(), "INI file with the same keys")("help,h",
                                                                                       "this help");
  po::variables_map vm;
  if (!parse_cli(args, all, "swarmdial demo --size-mib 16 --leechers 10 --dead 200 --out /tmp/d",
                 vm, help_out))
    return std::nullopt;
  DemoConfig c;
  c.shape = swarm_shape_from(vm);
  c.size_bytes = uint64_t{flag_in_range(vm, "size-mib", 1, 4096)} << 20;
  c.piece_length = flag_in_range(vm, "piece-kib", 16, 16384) * 1024;
  if (c.piece_length & (c.piece_length - 1))
    throw UsageError("--piece-kib: must be a power of two");
  c.shards = flag_in_range(vm, "shards", 1, 256);
  c.half_open = flag_in_range(vm, "half-open", 1, 1'000'000);
  c.rate = flag_non_negative(vm, "rate");
  c.timeout_ms = flag_in_range(vm, "timeout", 1, 600'000);
  c.workers = flag_in_range(vm, "workers", 1, 256);
  c.unchoke_slots = flag_in_range(vm, "unchoke-slots", 1, 10'000);
  c.out_dir = vm["out"].as<std::string>();
  if (c.out_dir.empty()) throw UsageError("--out: must name a directory");
  c.max_seconds = flag_non_negative(vm, "max-seconds");
  if (c.max_seconds < 1) throw UsageError("--max-seconds: must be at least 1");
  c.quiet = vm["quiet"].as<bool>();
  c.status = vm["status"].as<bool>();
  return c;
}

}  // namespace swarmdial
