#include "engine/target_set.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace swarmdial;

namespace {
std::vector<Endpoint> walk_all_shards(const TargetSet& set, const ExcludeList* ex, uint32_t shards,
                                      uint64_t max_targets = UINT64_MAX) {
  std::vector<Endpoint> all;
  for (uint32_t s = 0; s < shards; ++s) {
    TargetCursor cur(set, ex, s, shards, max_targets, 1234);
    while (auto ep = cur.next()) {
      EXPECT_EQ(endpoint_hash(*ep) % shards, s) << "a shard only gets its own targets";
      all.push_back(*ep);
    }
    EXPECT_TRUE(cur.exhausted());
  }
  return all;
}
}  // namespace

TEST(TargetSet, RangeCoversHostsTimesPortsExactlyOnceAcrossShards) {
  auto r = parse_target_range("127.0.9.0/28:80,6881-6882");
  ASSERT_TRUE(r);
  auto set = TargetSet::from_range(*r);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->size(), 16u * 3);
  auto all = walk_all_shards(*set, nullptr, 3);
  std::set<std::string> uniq;
  for (auto& ep : all) uniq.insert(format_endpoint(ep));
  EXPECT_EQ(all.size(), 48u);
  EXPECT_EQ(uniq.size(), 48u);
  EXPECT_TRUE(uniq.count("127.0.9.15:6882"));
}

TEST(TargetSet, ListIsDeduplicated) {
  auto parsed = parse_target_text("127.0.0.1:80\n127.0.0.1:80\n[::1]:80\n# c\n\n127.0.0.2:80\n");
  auto& list = std::get<std::vector<Endpoint>>(parsed);
  EXPECT_EQ(list.size(), 4u);
  auto set = TargetSet::from_list(list);
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(walk_all_shards(set, nullptr, 2).size(), 3u);
}

TEST(TargetSet, TargetFileErrorsGiveLineNumbers) {
  auto parsed = parse_target_text("127.0.0.1:80\n127.0.0.1\n");
  ASSERT_TRUE(std::holds_alternative<TargetParseError>(parsed));
  EXPECT_EQ(std::get<TargetParseError>(parsed).line, 2);
}

TEST(TargetSet, ExcludeAndMaxTargets) {
  auto set = *TargetSet::from_range(*parse_target_range("127.0.9.0/24:80"));
  auto ex = std::get<ExcludeList>(parse_exclude_text("127.0.9.0/25\n"));
  auto all = walk_all_shards(set, &ex, 2);
  EXPECT_EQ(all.size(), 128u);
  for (auto& ep : all) EXPECT_FALSE(ex.contains(ep.ip));
  // max-targets counts the global order, so every shard agrees on the cut.
  EXPECT_EQ(walk_all_shards(set, &ex, 2, 50).size(), 50u);
  EXPECT_EQ(walk_all_shards(set, &ex, 1, 50).size(), 50u);
}

TEST(TargetSet, RangeParsing) {
  EXPECT_TRUE(parse_target_range("[fd00::/120]:80"));
  EXPECT_TRUE(parse_target_range("fd00::/126:80"));
  EXPECT_FALSE(parse_target_range("fd00:::80"));
  EXPECT_FALSE(parse_target_range("127.0.0.1/24"));
  EXPECT_FALSE(TargetSet::from_range(*parse_target_range("fd00::/32:80"))) << "too large";
}
