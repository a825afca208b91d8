#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace swarmdial {

int LatencyHistogram::bucket_of(uint64_t us) {
  if (us < kSub) return static_cast<int>(us);
  int msb = 63 - std::countl_zero(us);  // >= kSubBits
  int shift = msb - kSubBits;
  int index = (shift + 1) * kSub + static_cast<int>((us >> shift) - kSub);
  return std::min(index, kBuckets - 1);
}

uint64_t LatencyHistogram::bucket_upper_us(int bucket) {
  if (bucket < kSub) return static_cast<uint64_t>(bucket);
  int shift = bucket / kSub - 1;
  uint64_t mantissa = static_cast<uint64_t>(bucket % kSub + kSub);
  return ((mantissa + 1) << shift) - 1;
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot s;
  for (int i = 0; i < kBuckets; ++i) {
    s.counts[i] = counts_[i].get();
    s.total += s.counts[i];
  }
  s.sum_us = sum_us_.get();
  s.max_us = max_us_.get();
  return s;
}

void LatencyHistogram::Snapshot::merge(const Snapshot& other) {
  for (int i = 0; i < kBuckets; ++i) counts[i] += other.counts[i];
  total += other.total;
  sum_us += other.sum_us;
  max_us = std::max(max_us, other.max_us);
}

uint64_t LatencyHistogram::Snapshot::percentile_us(double q) const {
  if (total == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  rank = std::clamp<uint64_t>(rank, 1, total);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts[i];
    if (seen >= rank) return std::min(bucket_upper_us(i), max_us);
  }
  return max_us;
}

uint64_t LatencyHistogram::Snapshot::count_at_most(uint64_t us) const {
  uint64_t n = 0;
  for (int i = 0; i < kBuckets && bucket_upper_us(i) <= us; ++i) n += counts[i];
  return n;
}

}  // namespace swarmdial
