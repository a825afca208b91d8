#include "swarm_config.hpp"

#include "cli_parse.hpp"
#include "dial_config.hpp"
#include "engine/tracker/tracker_url.hpp"
#include "swarm_shape_options.hpp"

namespace swarmdial {

namespace po = boost::program_options;

std::optional<SwarmConfig> parse_swarm_args(const std::vector<std::string>& args,
                                            std::string& help_out) {
  po::options_description torrent("Torrent");
  torrent.add_options()("torrent", po::value<std::string>(), "the .torrent the leechers download");
  po::options_description output("Output");
  output.add_options()("peers-file", po::value<std::string>(),
                       "write every peer's addr:port here (what `seed --peers-file` dials)")(
      "view", po::value<std::string>(), "write the swarm's own view as JSON here at exit")(
      "tracker", po::value<std::vector<std::string>>()->composing(),
      "announce every listening peer to this tracker (repeatable)")(
      "duration", po::value<double>()->default_value(0),
      "stop after S seconds, 0 = until a signal")(
      "until-complete", po::bool_switch(), "stop once every leecher has verified the torrent")(
      "quiet", po::bool_switch(), "no status line")(
      "status", po::bool_switch(), "status line even when stderr is not a terminal");
  po::options_description all(
      "swarmdial swarm: an emulated swarm on loopback (no root): leechers, slow, dead and "
      "black-holed peers");
  all.add(torrent).add(swarm_shape_options()).add(output);
  all.add_options()("config", po::value<std::string>(), "INI file with the same keys")("help,h",
                                                                                       "this help");
  po::variables_map vm;
  if (!parse_cli(args, all,
                 "swarmdial swarm --torrent t.torrent --leechers 200 --dead 600 --blackhole 150 "
                 "--slow 50 --peers-file peers.txt --view swarm.json",
                 vm, help_out))
    return std::nullopt;
  SwarmConfig c;
  if (!vm.count("torrent")) throw UsageError("--torrent FILE is required");
  c.torrent_file = vm["torrent"].as<std::string>();
  c.shape = swarm_shape_from(vm);
  if (vm.count("peers-file")) c.peers_file = vm["peers-file"].as<std::string>();
  if (vm.count("view")) c.view_file = vm["view"].as<std::string>();
  if (vm.count("tracker")) {
    c.trackers = vm["tracker"].as<std::vector<std::string>>();
    for (const auto& t : c.trackers) {
      std::string err;
      if (!parse_tracker_url(t, err)) throw UsageError("--tracker: '" + t + "': " + err);
    }
  }
  c.duration_s = flag_non_negative(vm, "duration");
  c.until_complete = vm["until-complete"].as<bool>();
  c.quiet = vm["quiet"].as<bool>();
  c.status = vm["status"].as<bool>();
  return c;
}

}  // namespace swarmdial
