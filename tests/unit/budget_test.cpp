#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "engine/half_open_budget.hpp"

using swarmdial::HalfOpenBudget;

TEST(HalfOpenBudget, HandsOutExactlyCapacityDistinctSlots) {
  HalfOpenBudget b(8);
  std::set<uint32_t> got;
  for (int i = 0; i < 8; ++i) {
    auto s = b.acquire();
    ASSERT_TRUE(s.has_value());
    EXPECT_LT(*s, 8u);
    got.insert(*s);
  }
  EXPECT_EQ(got.size(), 8u);
  EXPECT_FALSE(b.acquire().has_value()) << "a ninth slot would break the strict budget";
  EXPECT_EQ(b.in_use(), 8u);
  EXPECT_EQ(b.available(), 0u);
}

TEST(HalfOpenBudget, ReleaseReturnsTheSlotAndTracksHighWater) {
  HalfOpenBudget b(4);
  auto a = *b.acquire();
  auto c = *b.acquire();
  EXPECT_EQ(b.high_water(), 2u);
  EXPECT_TRUE(b.release(a));
  EXPECT_EQ(b.in_use(), 1u);
  EXPECT_EQ(b.high_water(), 2u);
  auto again = b.acquire();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, a) << "a released slot is reused first";
  EXPECT_TRUE(b.release(c));
  EXPECT_TRUE(b.release(*again));
  EXPECT_EQ(b.in_use(), 0u);
}

TEST(HalfOpenBudget, DoubleOrForeignReleaseIsRefused) {
  HalfOpenBudget b(2);
  auto s = *b.acquire();
  EXPECT_TRUE(b.release(s));
  EXPECT_FALSE(b.release(s)) << "double release must not inflate the budget";
  EXPECT_FALSE(b.release(99));
  EXPECT_EQ(b.available(), 2u);
  b.acquire();
  b.acquire();
  EXPECT_FALSE(b.acquire());
}

TEST(HalfOpenBudget, BudgetOfOne) {
  HalfOpenBudget b(1);
  auto s = b.acquire();
  ASSERT_TRUE(s);
  EXPECT_FALSE(b.acquire());
  b.release(*s);
  EXPECT_TRUE(b.acquire());
}

TEST(HalfOpenBudget, LoweredLimitStopsNewSlotsUntilEnoughComeBack) {
  HalfOpenBudget b(8);
  std::vector<uint32_t> held;
  for (int i = 0; i < 6; ++i) held.push_back(*b.acquire());
  b.set_limit(4);  // --half-open auto backs off below what is in flight
  EXPECT_EQ(b.available(), 0u);
  EXPECT_FALSE(b.acquire());
  b.release(held[0]);
  b.release(held[1]);
  EXPECT_FALSE(b.acquire()) << "4 still held: at the limit";
  b.release(held[2]);
  EXPECT_TRUE(b.acquire());
  b.set_limit(100);
  EXPECT_EQ(b.limit(), 8u) << "never above the slab";
  b.set_limit(0);
  EXPECT_EQ(b.limit(), 1u) << "never below one";
}
