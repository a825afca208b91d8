#include "target_set.hpp"

#include <unordered_set>

#include "port_list.hpp"
#include "text_lines.hpp"

namespace swarmdial {

namespace {
struct EndpointHash {
  size_t operator()(const Endpoint& ep) const { return endpoint_hash(ep); }
};
// The index space must stay below the permutation's limit; 2^48 targets is
// already years of dialing at a million SYN/s.
constexpr uint64_t kMaxTargets = uint64_t{1} << 48;
}  // namespace

std::optional<TargetRange> parse_target_range(std::string_view text) {
  std::string_view cidr_text, ports_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    cidr_text = text.substr(1, close - 1);
    ports_text = text.substr(close + 2);
  } else {
    auto slash = text.find('/');
    auto colon = slash == std::string_view::npos ? text.find(':') : text.find(':', slash);
    if (slash == std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos)
      return std::nullopt;  // a bare IPv6 address needs brackets
    if (colon == std::string_view::npos) return std::nullopt;
    cidr_text = text.substr(0, colon);
    ports_text = text.substr(colon + 1);
  }
  auto block = parse_cidr(cidr_text);
  auto ports = parse_port_list(ports_text);
  if (!block || !ports) return std::nullopt;
  return TargetRange{*block, std::move(*ports)};
}

TargetSet TargetSet::from_list(std::vector<Endpoint> endpoints) {
  TargetSet set;
  std::unordered_set<Endpoint, EndpointHash> seen;
  seen.reserve(endpoints.size());
  set.list_.reserve(endpoints.size());
  for (const auto& ep : endpoints)
    if (seen.insert(ep).second) set.list_.push_back(ep);
  set.size_ = set.list_.size();
  return set;
}

std::optional<TargetSet> TargetSet::from_range(TargetRange range) {
  uint64_t hosts = range.block.size();
  if (hosts == UINT64_MAX || range.ports.empty() || hosts > kMaxTargets / range.ports.size())
    return std::nullopt;
  TargetSet set;
  set.size_ = hosts * range.ports.size();
  set.range_ = std::move(range);
  return set;
}

Endpoint TargetSet::at(uint64_t index) const {
  if (!range_) return list_[index];
  uint64_t nports = range_->ports.size();
  return Endpoint{range_->block.at(index / nports), range_->ports[index % nports]};
}

std::variant<std::vector<Endpoint>, TargetParseError> parse_target_text(std::string_view body) {
  std::vector<Endpoint> out;
  std::string_view bad_text;
  int bad_line = for_each_line(body, [&](std::string_view line) {
    auto text = strip_comment_and_space(line);
    if (text.empty()) return true;
    auto ep = parse_endpoint(text);
    if (!ep || out.size() >= kMaxTargets) {
      bad_text = text;
      return false;
    }
    out.push_back(*ep);
    return true;
  });
  if (bad_line != 0) return TargetParseError{bad_line, std::string(bad_text)};
  return out;
}

TargetCursor::TargetCursor(const TargetSet& set, const ExcludeList* exclude, uint32_t shard,
                           uint32_t shard_count, uint64_t max_targets, uint64_t seed,
                           Partition partition)
    : set_(set),
      exclude_(exclude),
      shard_(shard),
      shard_count_(shard_count),
      max_targets_(max_targets),
      partition_(partition),
      order_(set.size() == 0 ? 1 : set.size(), seed, partition.index, partition.count) {
  if (set.size() == 0) exhausted_ = true;
}

void TargetCursor::restart(uint64_t seed) {
  order_ = CyclicPermutation(set_.size() == 0 ? 1 : set_.size(), seed, partition_.index,
                             partition_.count);
  taken_global_ = 0;
  exhausted_ = set_.size() == 0;
}

std::optional<Endpoint> TargetCursor::next() {
  while (!exhausted_) {
    if (taken_global_ >= max_targets_) break;
    auto index = order_.next();
    if (!index) break;
    Endpoint ep = set_.at(*index);
    if (exclude_ && exclude_->contains(ep.ip)) continue;
    ++taken_global_;
    if (endpoint_hash(ep) % shard_count_ == shard_) return ep;
  }
  exhausted_ = true;
  return std::nullopt;
}

}  // namespace swarmdial
