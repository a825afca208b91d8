#pragma once
// `swarmdial tracker-load` settings (flags or the same keys in an INI --config).
#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

#include "uring/tracker/tracker_load_options.hpp"

namespace swarmdial {

struct TrackerLoadConfig {
  TrackerLoadOptions load;
  std::string summary_file;
  std::string plot_file;
  bool quiet = false;
  bool status = false;
};

// --tracker (one udp://, one http://, or one of each), --torrents, --peers,
// --connections, --numwant: the synthetic swarm, shared with `ceiling --tracker`.
void add_tracker_swarm_options(boost::program_options::options_description& group);
void read_tracker_swarm_flags(const boost::program_options::variables_map& vm,
                              TrackerLoadOptions& load);

std::optional<TrackerLoadConfig> parse_tracker_load_args(const std::vector<std::string>& args,
                                                         std::string& help_out);

}  // namespace swarmdial
