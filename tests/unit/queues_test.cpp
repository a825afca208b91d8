#include <gtest/gtest.h>

#include <thread>

#include "engine/spsc_queue.hpp"

using swarmdial::SpscQueue;

TEST(SpscQueue, BoundedFifo) {
  SpscQueue<int> q(4);
  EXPECT_EQ(q.capacity(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(q.try_push(i));
  EXPECT_FALSE(q.try_push(99)) << "full";
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*q.try_pop(), i);
  EXPECT_FALSE(q.try_pop());
  EXPECT_TRUE(q.empty());
}

TEST(SpscQueue, TwoThreadsLoseNothingAndKeepOrder) {
  SpscQueue<uint64_t> q(64);
  constexpr uint64_t kN = 2'000'000;
  std::thread producer([&] {
    for (uint64_t i = 0; i < kN; ++i)
      while (!q.try_push(i)) std::this_thread::yield();
  });
  uint64_t expect = 0;
  while (expect < kN) {
    if (auto v = q.try_pop()) {
      ASSERT_EQ(*v, expect);
      ++expect;
    }
  }
  producer.join();
  EXPECT_TRUE(q.empty());
}
