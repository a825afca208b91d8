#include "cli_parse.hpp"

#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>

#include "dial_config.hpp"

namespace swarmdial {

namespace po = boost::program_options;

namespace {

// Boost.Program_options builds its error text by replacing %option%,
// %value%, %original_token%... with the offending input, in a loop that never
// ends when the input itself holds the placeholder (found by fuzz_config:
// `--rate %value%` hung every command). No flag, value or path of ours needs
// a %word% pattern, so such input is refused before Boost sees it.
bool has_placeholder(std::string_view s) {
  for (size_t open = s.find('%'); open != std::string_view::npos; open = s.find('%', open + 1)) {
    size_t close = s.find('%', open + 1);
    if (close == std::string_view::npos) return false;
    bool word = close > open + 1;
    for (size_t i = open + 1; i < close && word; ++i) {
      char c = s[i];
      word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    }
    if (word) return true;
  }
  return false;
}

// A config file is small; a bigger one is a mistake (or not a config).
constexpr size_t kMaxConfigBytes = 1 << 20;

std::string read_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--config: " + path + ": cannot read");
  std::string text;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigBytes) throw UsageError("--config " + path + ": larger than 1 MiB");
  }
  if (in.bad()) throw UsageError("--config: " + path + ": cannot read");
  size_t line = 1;
  for (size_t start = 0; start <= text.size(); ++line) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (has_placeholder(std::string_view(text).substr(start, end - start)))
      throw UsageError("--config " + path + ": line " + std::to_string(line) +
                       ": a %word% pattern is not allowed");
    start = end + 1;
  }
  return text;
}

}  // namespace

bool parse_cli(const std::vector<std::string>& args, const po::options_description& desc,
               const std::string& example, po::variables_map& vm, std::string& help_out) {
  for (size_t i = 0; i < args.size(); ++i)
    if (has_placeholder(args[i]))
      throw UsageError("argument " + std::to_string(i + 1) + " ('" + args[i] +
                       "'): a %word% pattern is not allowed");
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
      std::istringstream in(read_config(path));
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
