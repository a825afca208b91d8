#include "partition_flags.hpp"

#include <charconv>
#include <cstdlib>
#include <string>

#include "engine/usage_error.hpp"

namespace swarmdial {

namespace po = boost::program_options;

namespace {

constexpr uint32_t kMaxPartitions = 1'000'000;

std::optional<uint32_t> number(std::string_view text) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

}  // namespace

void add_partition_options(po::options_description& group) {
  group.add_options()("partition", po::value<std::string>(),
                      "K/N: dial only part K (0..N-1) of N of the seeded target order, or 'auto' "
                      "(K from JOB_COMPLETION_INDEX, N from --partitions or "
                      "SWARMDIAL_PARTITIONS); N > 1 needs --seed")(
      "partitions", po::value<int64_t>(), "with --partition auto: N");
}

Partition read_partition_flags(const po::variables_map& vm, bool seed_given) {
  Partition p;
  if (!vm.count("partition")) {
    if (vm.count("partitions")) throw UsageError("--partitions: only with --partition auto");
    return p;
  }
  std::string text = vm["partition"].as<std::string>();
  if (text == "auto") {
    const char* index = std::getenv("JOB_COMPLETION_INDEX");
    if (!index) throw UsageError("--partition auto: JOB_COMPLETION_INDEX is not set");
    auto k = number(index);
    if (!k)
      throw UsageError(std::string("--partition auto: JOB_COMPLETION_INDEX '") + index +
                       "' is not a number");
    std::optional<uint32_t> n;
    if (vm.count("partitions")) {
      int64_t v = vm["partitions"].as<int64_t>();
      if (v < 1 || v > kMaxPartitions)
        throw UsageError("--partitions: must be between 1 and 1000000");
      n = static_cast<uint32_t>(v);
    } else if (const char* env = std::getenv("SWARMDIAL_PARTITIONS")) {
      n = number(env);
      if (!n || *n < 1 || *n > kMaxPartitions)
        throw UsageError(std::string("--partition auto: SWARMDIAL_PARTITIONS '") + env +
                         "' is not a number between 1 and 1000000");
    } else {
      throw UsageError(
          "--partition auto: give the count with --partitions N or SWARMDIAL_PARTITIONS");
    }
    p = {*k, *n};
  } else {
    auto slash = text.find('/');
    auto k =
        slash == std::string::npos ? std::nullopt : number(std::string_view(text).substr(0, slash));
    auto n = slash == std::string::npos ? std::nullopt
                                        : number(std::string_view(text).substr(slash + 1));
    if (!k || !n || *n < 1 || *n > kMaxPartitions)
      throw UsageError("--partition: '" + text +
                       "' is not K/N (K from 0, N up to 1000000) or auto");
    if (vm.count("partitions")) throw UsageError("--partitions: only with --partition auto");
    p = {*k, *n};
  }
  if (p.index >= p.count)
    throw UsageError("--partition: part " + std::to_string(p.index) + " of " +
                     std::to_string(p.count) + " does not exist (parts count from 0)");
  if (p.count > 1 && !seed_given)
    throw UsageError("--partition: " + std::to_string(p.count) +
                     " partitions need --seed, so every node walks the same order");
  return p;
}

}  // namespace swarmdial
