#include "half_open_flags.hpp"

#include "engine/usage_error.hpp"

namespace swarmdial {

namespace po = boost::program_options;

namespace {
uint32_t in_range(const po::variables_map& vm, const char* flag, int64_t lo, int64_t hi) {
  int64_t v = vm[flag].as<int64_t>();
  if (v < lo || v > hi)
    throw UsageError(std::string("--") + flag + ": must be between " + std::to_string(lo) +
                     " and " + std::to_string(hi));
  return static_cast<uint32_t>(v);
}
}  // namespace

void add_half_open_options(po::options_description& group, uint32_t default_budget,
                           uint32_t default_max) {
  group.add_options()("half-open",
                      po::value<std::string>()->default_value(std::to_string(default_budget)),
                      "half-open budget per shard, or 'auto': adapted to the path between "
                      "--half-open-min and --half-open-max (answered share and connect RTT)")(
      "half-open-min", po::value<int64_t>()->default_value(8), "with --half-open auto: the floor")(
      "half-open-max", po::value<int64_t>()->default_value(default_max),
      "with --half-open auto: the ceiling");
}

HalfOpenFlags read_half_open_flags(const po::variables_map& vm) {
  HalfOpenFlags f;
  std::string text = vm["half-open"].as<std::string>();
  if (text == "auto") {
    f.adaptive = true;
    f.half_open = in_range(vm, "half-open-max", 1, 1'000'000);
    f.half_open_min = in_range(vm, "half-open-min", 1, 1'000'000);
    if (f.half_open_min > f.half_open)
      throw UsageError("--half-open-min: " + std::to_string(f.half_open_min) +
                       " is above --half-open-max " + std::to_string(f.half_open));
    return f;
  }
  size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v < 1 || v > 1'000'000)
    throw UsageError("--half-open: '" + text + "' is not a number between 1 and 1000000, or auto");
  if (!vm["half-open-min"].defaulted() || !vm["half-open-max"].defaulted())
    throw UsageError("--half-open-min/--half-open-max: only with --half-open auto");
  f.half_open = static_cast<uint32_t>(v);
  return f;
}

}  // namespace swarmdial
