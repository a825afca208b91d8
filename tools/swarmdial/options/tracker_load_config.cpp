#include "tracker_load_config.hpp"

#include "cli_parse.hpp"
#include "dial_config.hpp"
#include "partition_flags.hpp"

namespace swarmdial {

namespace po = boost::program_options;

void add_tracker_swarm_options(po::options_description& group) {
  group.add_options()("tracker", po::value<std::vector<std::string>>()->composing(),
                      "udp://HOST:PORT or http://HOST:PORT/announce; give one of each to split "
                      "the load between UDP and HTTP")(
      "torrents", po::value<int64_t>()->default_value(100),
      "synthetic torrents; info-hash i = SHA-1(\"swarmdial-load-torrent-<i>\")")(
      "peers", po::value<int64_t>()->default_value(100), "synthetic peers per torrent")(
      "connections", po::value<int64_t>()->default_value(16),
      "UDP sockets (one connection id each) or HTTP keep-alive connections")(
      "numwant", po::value<int64_t>()->default_value(50), "peers asked for per announce");
}

void read_tracker_swarm_flags(const po::variables_map& vm, TrackerLoadOptions& load) {
  if (!vm.count("tracker")) throw UsageError("--tracker URL is required");
  bool have_udp = false, have_http = false;
  for (const auto& t : vm["tracker"].as<std::vector<std::string>>()) {
    std::string err;
    auto u = parse_tracker_url(t, err);
    if (!u) throw UsageError("--tracker: '" + t + "': " + err);
    bool& seen = u->scheme == TrackerUrl::Scheme::kUdp ? have_udp : have_http;
    if (seen) throw UsageError("--tracker: give at most one udp:// and one http:// tracker");
    seen = true;
    load.trackers.push_back(*u);
  }
  load.torrents = flag_in_range(vm, "torrents", 1, 1'000'000);
  load.peers = flag_in_range(vm, "peers", 1, 64'000);
  load.connections = flag_in_range(vm, "connections", 1, 4096);
  load.numwant = static_cast<int32_t>(flag_in_range(vm, "numwant", 0, 1000));
  // The synthetic swarm is the same on every node: no seed needed to split it.
  Partition p = read_partition_flags(vm, true);
  if (p.count > load.peers)
    throw UsageError("--partition: " + std::to_string(p.count) + " partitions of " +
                     std::to_string(load.peers) + " peers leave some with none");
  load.part = p.index;
  load.parts = p.count;
}

std::optional<TrackerLoadConfig> parse_tracker_load_args(const std::vector<std::string>& args,
                                                         std::string& help_out) {
  po::options_description load("Load");
  add_tracker_swarm_options(load);
  add_partition_options(load);
  load.add_options()("rate", po::value<double>(),
                     "announces per second, on a fixed timetable (open loop)")(
      "duration", po::value<double>(), "seconds of load")(
      "timeout", po::value<int64_t>()->default_value(5000), "ms before a request is a timeout");
  po::options_description output("Output");
  output.add_options()("summary", po::value<std::string>(), "write the summary JSON here")(
      "quiet", po::bool_switch(), "no status line")(
      "status", po::bool_switch(), "status line even when stderr is not a terminal");
  po::options_description all(
      "swarmdial tracker-load: announce a synthetic swarm to a tracker at a fixed rate; latency "
      "is measured from each request's scheduled time, so a slow tracker cannot hide");
  all.add(load).add(output);
  all.add_options()("config", po::value<std::string>(), "INI file with the same keys")("help,h",
                                                                                       "this help");
  po::variables_map vm;
  if (!parse_cli(args, all,
                 "swarmdial tracker-load --tracker udp://127.0.0.1:6969 --rate 20000 --duration 30 "
                 "--torrents 1000 --peers 50 --summary load.json",
                 vm, help_out))
    return std::nullopt;
  TrackerLoadConfig c;
  read_tracker_swarm_flags(vm, c.load);
  if (!vm.count("rate")) throw UsageError("--rate N is required");
  if (!vm.count("duration")) throw UsageError("--duration S is required");
  c.load.rate = vm["rate"].as<double>();
  if (!(c.load.rate > 0 && c.load.rate <= 10'000'000))
    throw UsageError("--rate: must be above 0 and at most 10000000");
  c.load.duration_s = vm["duration"].as<double>();
  if (!(c.load.duration_s > 0 && c.load.duration_s <= 86400))
    throw UsageError("--duration: must be above 0 and at most 86400");
  c.load.timeout_ms = flag_in_range(vm, "timeout", 10, 600'000);
  if (vm.count("summary")) c.summary_file = vm["summary"].as<std::string>();
  c.quiet = vm["quiet"].as<bool>();
  c.status = vm["status"].as<bool>();
  return c;
}

}  // namespace swarmdial
