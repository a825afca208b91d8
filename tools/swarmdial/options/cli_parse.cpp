#include "cli_parse.hpp"

#include <fstream>
#include <sstream>

#include "dial_config.hpp"

namespace swarmdial {

namespace po = boost::program_options;

bool parse_cli(const std::vector<std::string>& args, const po::options_description& desc,
               const std::string& example, po::variables_map& vm, std::string& help_out) {
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    if (vm.count("help")) {
      std::ostringstream os;
      os << desc << "\nExample:\n  " << example << "\n";
      help_out = os.str();
      return false;
    }
    if (vm.count("config")) {
      std::string path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) throw UsageError("--config: " + path + ": cannot read");
      try {
        // store() keeps the first value it sees, so the command line wins.
        po::store(po::parse_config_file(in, desc), vm);
      } catch (const po::error& e) {
        throw UsageError("--config " + path + ": " + e.what());
      }
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return true;
}

uint32_t flag_in_range(const po::variables_map& vm, const char* flag, int64_t lo, int64_t hi) {
  int64_t v = vm[flag].as<int64_t>();
  if (v < lo || v > hi)
    throw UsageError(std::string("--") + flag + ": must be between " + std::to_string(lo) +
                     " and " + std::to_string(hi));
  return static_cast<uint32_t>(v);
}

double flag_non_negative(const po::variables_map& vm, const char* flag) {
  double v = vm[flag].as<double>();
  if (!(v >= 0)) throw UsageError(std::string("--") + flag + ": must be 0 or more");
  return v;
}

}  // namespace swarmdial
