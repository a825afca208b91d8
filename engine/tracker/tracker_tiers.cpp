#include "tracker_tiers.hpp"

#include <algorithm>
#include <random>

namespace swarmdial {

TrackerTiers::TrackerTiers(std::vector<std::vector<std::string>> tiers, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (auto& t : tiers) {
    if (t.empty()) continue;
    std::shuffle(t.begin(), t.end(), rng);
    tiers_.push_back(std::move(t));
  }
}

void TrackerTiers::on_success() {
  auto& t = tiers_[tier_];
  std::rotate(t.begin(), t.begin() + static_cast<long>(index_),
              t.begin() + static_cast<long>(index_) + 1);
  tier_ = 0;
  index_ = 0;
}

bool TrackerTiers::on_failure() {
  if (++index_ < tiers_[tier_].size()) return true;
  index_ = 0;
  if (++tier_ < tiers_.size()) return true;
  tier_ = 0;
  return false;
}

}  // namespace swarmdial
