#pragma once
// `swarmdial dial` settings: flags and the same keys in an INI --config file,
// parsed with Boost.Program_options and validated into one struct. Every
// problem becomes a UsageError whose text names the flag (exit code 2).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/cidr.hpp"
#include "engine/endpoint.hpp"
#include "engine/peerwire/bt_handshake.hpp"
#include "engine/target_set.hpp"
#include "engine/usage_error.hpp"

namespace swarmdial {

enum class RowFormat { kCsv, kJsonl };

struct DialConfig {
  std::string targets_file;  // "-" = stdin
  std::optional<TargetRange> range;
  std::string range_text;  // --range as given
  std::string exclude_file;
  Backend backend = Backend::kUring;
  uint32_t shards = 1;
  uint32_t half_open = 256;  // per shard (with --half-open auto: the most it may grow to)
  bool half_open_auto = false;
  uint32_t half_open_min = 8;
  double rate = 10000;  // SYN/s over all shards; 0 = unlimited
  int64_t timeout_ms = 3000;
  uint32_t retries = 0;
  std::vector<IpAddress> sources;
  uint64_t max_targets = UINT64_MAX;
  double duration_s = 0;  // 0 = until the targets run out
  std::string output = "-";
  RowFormat format = RowFormat::kCsv;
  std::string summary_file;
  std::optional<InfoHash> bt_infohash;
  int64_t bt_timeout_ms = 5000;
  bool hold = false;
  std::optional<Endpoint> metrics;
  std::string dpdk_args;
  std::optional<IpAddress> gateway;  // --backend dpdk only
  bool shards_given = false;         // --shards was set, not defaulted
  bool quiet = false;
  bool status = false;  // force the status line when stderr is not a TTY
  std::optional<uint64_t> seed;
  Partition partition;  // --partition K/N
};

// Returns nullopt when --help was asked for (help text already in help_out).
std::optional<DialConfig> parse_dial_args(const std::vector<std::string>& args,
                                          std::string& help_out);

// Largest source pool accepted by --source.
constexpr uint64_t kMaxSourcePool = 65536;

}  // namespace swarmdial
