// The fair share of dials between torrents, without shards: a "shard" here
// is a push that takes so many dials per round, as a short shard queue does.
#include "engine/dial_scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace swarmdial {
namespace {

DialTarget peer(uint32_t torrent, uint32_t i) {
  Endpoint e = *parse_endpoint("198.18." + std::to_string(i / 250) + "." +
                               std::to_string(i % 250 + 1) + ":6881");
  return {e, torrent};
}

// Drains `per_round` dials at a time until torrent `watch` has had `want`
// dialled; returns how many dials left before that.
size_t dials_until(DialScheduler& s, uint32_t watch, size_t want, size_t per_round) {
  size_t total = 0, seen = 0;
  while (seen < want && s.waiting() > 0) {
    size_t room = per_round;
    s.drain([&](const DialTarget& d) {
      if (room == 0 || seen == want) return false;
      --room;
      ++total;
      if (d.tag == watch) ++seen;
      return true;
    });
  }
  return total;
}

TEST(DialScheduler, LivePeersOfOneTorrentAreNotStarvedByAnotherTorrentsDeadOnes) {
  // 5,000 dead peers queued first for torrent 0, then 20 live ones for torrent 1.
  DialScheduler fair(2, DialOrder::kFair), fifo(2, DialOrder::kFifo);
  for (auto* s : {&fair, &fifo}) {
    for (uint32_t i = 0; i < 5000; ++i) ASSERT_TRUE(s->add(peer(0, i)));
    for (uint32_t i = 0; i < 20; ++i) ASSERT_TRUE(s->add(peer(1, i)));
  }
  size_t fair_n = dials_until(fair, 1, 20, 16);
  size_t fifo_n = dials_until(fifo, 1, 20, 16);
  std::printf("dials before torrent 1's 20 peers were all dialled: fair %zu, fifo %zu\n", fair_n,
              fifo_n);
  EXPECT_LE(fair_n, 40u);    // every other dial, from the first round on
  EXPECT_EQ(fifo_n, 5020u);  // behind every dead peer
}

TEST(DialScheduler, ARefusedDialStaysFirstAndTheOthersGoOn) {
  DialScheduler s(3, DialOrder::kFair);
  for (uint32_t t = 0; t < 3; ++t)
    for (uint32_t i = 0; i < 3; ++i) s.add(peer(t, i));
  // Torrent 0's shard is full: its head is refused every time.
  std::vector<DialTarget> got;
  s.drain([&](const DialTarget& d) {
    if (d.tag == 0) return false;
    got.push_back(d);
    return true;
  });
  EXPECT_EQ(got.size(), 6u);
  EXPECT_EQ(s.waiting(0), 3u);
  got.clear();
  s.drain([&](const DialTarget& d) {
    got.push_back(d);
    return true;
  });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], peer(0, 0));  // the refused one, first, in its order
  EXPECT_EQ(got[2], peer(0, 2));
  EXPECT_EQ(s.waiting(), 0u);
}

TEST(DialScheduler, TurnsAlternateAndANewcomerWaitsForTheRound) {
  DialScheduler s(3, DialOrder::kFair);
  for (uint32_t i = 0; i < 4; ++i) {
    s.add(peer(0, i));
    s.add(peer(1, i));
  }
  std::vector<uint32_t> order;
  size_t room = 3;
  auto take = [&](const DialTarget& d) {
    if (room == 0) return false;
    --room;
    order.push_back(d.tag);
    return true;
  };
  s.drain(take);  // 0 1 0
  s.add(peer(2, 0));
  room = 5;
  s.drain(take);  // the round goes on (1 0), then the newcomer: 1 0 2 1 0
  EXPECT_EQ(order, (std::vector<uint32_t>{0, 1, 0, 1, 0, 2, 1, 0}));
}

TEST(DialScheduler, AFullTorrentQueueDropsAndCounts) {
  DialScheduler s(2, DialOrder::kFair, 10);
  for (uint32_t i = 0; i < 15; ++i) s.add(peer(0, i));
  EXPECT_TRUE(s.add(peer(1, 0)));
  EXPECT_FALSE(s.add(peer(5, 0)));  // no such torrent
  EXPECT_EQ(s.waiting(0), 10u);
  EXPECT_EQ(s.dropped(), 5u);
}

// A torrent that stops being seeded leaves the round at once: what it had
// waiting is gone (not counted as dropped for a full queue), and the turn
// order of the others does not skip anyone.
TEST(DialScheduler, AClearedTorrentLeavesTheRound) {
  for (DialOrder order : {DialOrder::kFair, DialOrder::kFifo}) {
    DialScheduler s(3, order);
    for (uint32_t i = 0; i < 3; ++i)
      for (uint32_t t = 0; t < 3; ++t) s.add(peer(t, i));
    std::vector<uint32_t> got;
    size_t room = 1;
    auto take = [&](const DialTarget& d) {
      if (room == 0) return false;
      --room;
      got.push_back(d.tag);
      return true;
    };
    s.drain(take);  // torrent 0's first
    EXPECT_EQ(s.clear(1), 3u);
    EXPECT_EQ(s.waiting(1), 0u);
    EXPECT_EQ(s.waiting(), 5u);
    room = 10;
    s.drain(take);
    EXPECT_EQ(got.size(), 6u);
    EXPECT_EQ(std::count(got.begin(), got.end(), 1u), 0);
    if (order == DialOrder::kFair) {
      EXPECT_EQ(got, (std::vector<uint32_t>{0, 2, 0, 2, 0, 2}));
    }
    EXPECT_EQ(s.dropped(), 0u);
    EXPECT_EQ(s.clear(1), 0u);
    EXPECT_EQ(s.clear(7), 0u);       // no such torrent
    EXPECT_TRUE(s.add(peer(1, 9)));  // the slot can be used again
    EXPECT_EQ(s.waiting(1), 1u);
  }
}

}  // namespace
}  // namespace swarmdial
