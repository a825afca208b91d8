#pragma once
// The immutable set of targets of one run: an explicit, deduplicated list
// (--targets) or a CIDR x ports product (--range) that is never materialised.
// Shards share it read-only; each walks it through its own TargetCursor.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cidr.hpp"
#include "cyclic_permutation.hpp"
#include "endpoint.hpp"
#include "exclude_list.hpp"

namespace swarmdial {

struct TargetRange {
  Cidr block;
  std::vector<uint16_t> ports;  // sorted, unique
};

// Parses "a.b.c.d/len:PORTS", "v6/len:PORTS" or "[v6/len]:PORTS".
std::optional<TargetRange> parse_target_range(std::string_view text);

class TargetSet {
 public:
  static TargetSet from_list(std::vector<Endpoint> endpoints);    // dedupes, keeps first
  static std::optional<TargetSet> from_range(TargetRange range);  // nullopt: too large

  uint64_t size() const { return size_; }
  Endpoint at(uint64_t index) const;

 private:
  std::vector<Endpoint> list_;
  std::optional<TargetRange> range_;
  uint64_t size_ = 0;
};

struct TargetParseError {
  int line = 0;
  std::string text;
};

// Parses a targets file body: "addr:port" or "[v6]:port" per line, '#'
// comments and blank lines allowed. At most max_lines targets are accepted.
std::variant<std::vector<Endpoint>, TargetParseError> parse_target_text(std::string_view body);

// --partition K/N: this node's share of a target set split over N nodes.
struct Partition {
  uint32_t index = 0;  // K, from 0
  uint32_t count = 1;  // N
};

// One shard's walk over the run's targets: the whole set in one seeded
// pseudorandom order, keeping the entries that hash to this shard, skipping
// excluded addresses, and stopping after the first max_targets non-excluded
// entries of the global order (so all shards agree on which targets count).
class TargetCursor {
 public:
  // The shard takes, from its partition's slice of the seeded order, the
  // targets that hash to it.
  TargetCursor(const TargetSet& set, const ExcludeList* exclude, uint32_t shard,
               uint32_t shard_count, uint64_t max_targets, uint64_t seed, Partition partition = {});
  std::optional<Endpoint> next();
  bool exhausted() const { return exhausted_; }
  // Starts another lap over the same targets in a new order (`ceiling`
  // steps dial the set round and round).
  void restart(uint64_t seed);

 private:
  const TargetSet& set_;
  const ExcludeList* exclude_;
  uint32_t shard_, shard_count_;
  uint64_t max_targets_, taken_global_ = 0;
  Partition partition_;
  CyclicPermutation order_;
  bool exhausted_ = false;
};

}  // namespace swarmdial
