#pragma once
// BEP 12 announce-list tiers: each tier shuffled once; trackers are tried in
// order within a tier, then the next tier; the one that answers moves to the
// front of its tier (promotion) and is tried first next time.
#include <cstdint>
#include <string>
#include <vector>

namespace swarmdial {

class TrackerTiers {
 public:
  TrackerTiers(std::vector<std::vector<std::string>> tiers, uint64_t seed);

  bool empty() const { return tiers_.empty(); }
  const std::string& current() const { return tiers_[tier_][index_]; }
  // The current tracker answered: promote it, and start from the top next time.
  void on_success();
  // The current tracker failed: move on. Returns false when every tracker
  // has now failed once in this round (the caller backs off; the next round
  // starts from the top).
  bool on_failure();
  const std::vector<std::vector<std::string>>& tiers() const { return tiers_; }

 private:
  std::vector<std::vector<std::string>> tiers_;
  size_t tier_ = 0, index_ = 0;
};

}  // namespace swarmdial
