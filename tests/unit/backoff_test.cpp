#include "engine/backoff.hpp"

#include <gtest/gtest.h>

#include <set>

#include "engine/retry_queue.hpp"

using swarmdial::Backoff;

TEST(Backoff, DoublesPerRetryWithinJitter) {
  Backoff b{100'000'000, 10'000'000'000};
  for (uint32_t retry = 1; retry <= 5; ++retry) {
    int64_t nominal = 100'000'000LL << (retry - 1);
    for (uint64_t seed = 0; seed < 50; ++seed) {
      int64_t d = b.delay_ns(retry, seed);
      EXPECT_GE(d, nominal - nominal / 4);
      EXPECT_LE(d, nominal + nominal / 4);
    }
  }
}

TEST(Backoff, CappedAndNoOverflow) {
  Backoff b{1'000'000'000, 4'000'000'000};
  for (uint32_t retry : {3u, 10u, 40u, 1000u}) {
    int64_t d = b.delay_ns(retry, 1);
    EXPECT_LE(d, 5'000'000'000);
    EXPECT_GE(d, 3'000'000'000);
  }
}

TEST(Backoff, JitterSpreadsRetries) {
  Backoff b{1'000'000'000, 100'000'000'000};
  std::set<int64_t> distinct;
  for (uint64_t seed = 0; seed < 100; ++seed) distinct.insert(b.delay_ns(2, seed * 7919));
  EXPECT_GT(distinct.size(), 50u);
}

TEST(RetryQueue, PopsInDueOrderAndRespectsCapacity) {
  swarmdial::RetryQueue q(4);
  swarmdial::Endpoint ep;
  EXPECT_TRUE(q.push({30, ep, 1}));
  EXPECT_TRUE(q.push({10, ep, 2}));
  EXPECT_TRUE(q.push({20, ep, 3}));
  EXPECT_TRUE(q.push({5, ep, 4}));
  EXPECT_FALSE(q.push({1, ep, 5})) << "full";
  EXPECT_EQ(q.pop().due_ns, 5);
  EXPECT_EQ(q.pop().due_ns, 10);
  EXPECT_EQ(q.pop().due_ns, 20);
  EXPECT_EQ(q.top().attempts, 1u);
  EXPECT_EQ(q.pop().due_ns, 30);
  EXPECT_TRUE(q.empty());
}
