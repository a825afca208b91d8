#pragma once
// Connect latency histogram with log-linear buckets (32 per power of two, so
// ~3% resolution from 1 us to ~1 h). Single writer, many readers, like the
// other shard stats. Snapshots merge across shards for percentiles.
#include <array>
#include <cstdint>

#include "relaxed_counter.hpp"

namespace swarmdial {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = kSub * 32;

  static int bucket_of(uint64_t us);
  static uint64_t bucket_upper_us(int bucket);  // largest value in the bucket

  void record(uint64_t us) {
    counts_[bucket_of(us)].add();
    sum_us_.add(us);
    if (us > max_us_.get()) max_us_.set(us);
  }

  struct Snapshot {
    std::array<uint64_t, kBuckets> counts{};
    uint64_t total = 0, sum_us = 0, max_us = 0;
    void merge(const Snapshot& other);
    // q in [0,1]; returns the upper bound of the bucket holding that rank.
    uint64_t percentile_us(double q) const;
    // Count of values <= us, at bucket resolution.
    uint64_t count_at_most(uint64_t us) const;
  };
  Snapshot snapshot() const;

 private:
  std::array<RelaxedCounter, kBuckets> counts_;
  RelaxedCounter sum_us_, max_us_;
};

}  // namespace swarmdial
