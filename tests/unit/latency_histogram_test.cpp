#include "engine/latency_histogram.hpp"

#include <gtest/gtest.h>

using swarmdial::LatencyHistogram;

TEST(LatencyHistogram, BucketsAreMonotonicAndTight) {
  int prev = -1;
  for (uint64_t us = 0; us < 5'000'000; us += 1 + us / 50) {
    int b = LatencyHistogram::bucket_of(us);
    ASSERT_GE(b, prev);
    prev = b;
    ASSERT_GE(LatencyHistogram::bucket_upper_us(b), us);
    // within ~3.2% of the true value
    ASSERT_LE(LatencyHistogram::bucket_upper_us(b), us + us / 30 + 1);
  }
}

TEST(LatencyHistogram, PercentilesOfUniformSamples) {
  LatencyHistogram h;
  for (uint64_t us = 1; us <= 10000; ++us) h.record(us);
  auto s = h.snapshot();
  EXPECT_EQ(s.total, 10000u);
  EXPECT_NEAR(static_cast<double>(s.percentile_us(0.5)), 5000, 5000 * 0.035);
  EXPECT_NEAR(static_cast<double>(s.percentile_us(0.99)), 9900, 9900 * 0.035);
  EXPECT_EQ(s.percentile_us(1.0), 10000u);
  EXPECT_EQ(s.max_us, 10000u);
  EXPECT_EQ(s.count_at_most(0), 0u);
  EXPECT_NEAR(static_cast<double>(s.count_at_most(1000)), 1000, 40);
}

TEST(LatencyHistogram, MergeAddsShards) {
  LatencyHistogram a, b;
  a.record(10);
  b.record(1000);
  b.record(2000);
  auto s = a.snapshot();
  s.merge(b.snapshot());
  EXPECT_EQ(s.total, 3u);
  EXPECT_EQ(s.max_us, 2000u);
  EXPECT_EQ(s.percentile_us(0.1), 10u);
}
