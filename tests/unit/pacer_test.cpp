#include "engine/pacer.hpp"

#include <gtest/gtest.h>

using swarmdial::Pacer;

TEST(Pacer, UnlimitedAlwaysGrants) {
  Pacer p(0, 1, 0);
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(p.try_take(0));
  EXPECT_EQ(p.wait_ns(0), 0);
}

TEST(Pacer, ExactRateOverSimulatedTime) {
  // 1000 SYN/s, polled every 100 us for 10 s of simulated time.
  Pacer p(1000, 1, 0);
  int granted = 0;
  for (int64_t t = 0; t <= 10'000'000'000; t += 100'000)
    while (p.try_take(t)) ++granted;
  EXPECT_GE(granted, 10000);
  EXPECT_LE(granted, 10002);
}

TEST(Pacer, BurstIsCappedAfterIdle) {
  Pacer p(100, 5, 0);
  // Idle for 10 s: only `burst` tokens may have accumulated.
  int granted = 0;
  while (p.try_take(10'000'000'000)) ++granted;
  EXPECT_EQ(granted, 5);
}

TEST(Pacer, WaitTellsWhenTheNextTokenArrives) {
  Pacer p(10, 1, 0);  // one token per 100 ms
  EXPECT_TRUE(p.try_take(0));
  EXPECT_FALSE(p.try_take(0));
  int64_t w = p.wait_ns(0);
  EXPECT_GT(w, 99'000'000);
  EXPECT_LE(w, 100'000'001);
  EXPECT_FALSE(p.try_take(w - 1'000'000));
  EXPECT_TRUE(p.try_take(w));
}

TEST(Pacer, OddRatesDoNotDrift) {
  Pacer p(333.3, 1, 0);
  int granted = 0;
  for (int64_t t = 0; t <= 30'000'000'000; t += 1'000'000)
    while (p.try_take(t)) ++granted;
  EXPECT_NEAR(granted, 333.3 * 30, 2);
}

TEST(Pacer, NewRateTakesOverFromNow) {
  int64_t now = 0;
  Pacer p(1000, 1, now);
  auto count_for = [&](int64_t ns) {
    uint64_t n = 0;
    for (int64_t end = now + ns; now < end; now += 10'000)
      while (p.try_take(now)) ++n;
    return n;
  };
  EXPECT_NEAR(static_cast<double>(count_for(1'000'000'000)), 1000, 2);
  p.set_rate(250);
  EXPECT_NEAR(static_cast<double>(count_for(1'000'000'000)), 250, 2);
  p.set_rate(0);
  EXPECT_TRUE(p.unlimited());
}
