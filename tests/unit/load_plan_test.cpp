// The synthetic swarm of `tracker-load`: how memberships spread over
// torrents, the event lifecycle, partitions, and --infohashes parsing.
#include "engine/tracker/load_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <variant>

#include "engine/tracker/info_hash_list.hpp"

using namespace swarmdial;

namespace {

LoadModel model(uint32_t torrents, uint32_t peers, double zipf) {
  LoadModel m;
  m.torrents = torrents;
  m.peers = peers;
  m.zipf = zipf;
  return m;
}

std::map<InfoHash, uint64_t> started_per_torrent(const LoadPlan& plan) {
  std::map<InfoHash, uint64_t> n;
  for (uint64_t k = 0; k < plan.swarm_size(); ++k) {
    AnnounceRequest r = plan.request(k);
    EXPECT_EQ(r.event, AnnounceEvent::kStarted) << k;
    ++n[r.info_hash];
  }
  return n;
}

}  // namespace

TEST(LoadPlan, UniformGivesEveryTorrentExactlyItsPeers) {
  LoadPlan plan(model(20, 50, 0));
  ASSERT_EQ(plan.swarm_size(), 1000u);
  auto n = started_per_torrent(plan);
  ASSERT_EQ(n.size(), 20u);
  for (auto& [hash, count] : n) EXPECT_EQ(count, 50u);
  // A peer is one client in every torrent: 50 distinct ports per torrent.
  std::map<InfoHash, std::set<uint16_t>> ports;
  for (uint64_t k = 0; k < plan.swarm_size(); ++k)
    ports[plan.request(k).info_hash].insert(plan.request(k).port);
  for (auto& [hash, p] : ports) EXPECT_EQ(p.size(), 50u);
  EXPECT_EQ(plan.request(0).info_hash, load_info_hash(0));
}

TEST(LoadPlan, ZipfSharesFollowOneOverRank) {
  const uint32_t T = 100, P = 100;
  LoadPlan plan(model(T, P, 1.0));
  ASSERT_EQ(plan.swarm_size(), uint64_t{T} * P);
  std::vector<uint64_t> count(T);
  for (uint64_t m = 0; m < plan.swarm_size(); ++m) ++count[plan.torrent_of(m)];
  double h = 0;
  for (uint32_t r = 1; r <= T; ++r) h += 1.0 / r;
  // Evenly spread quantiles: each count is its share of 10,000 within 2.
  for (uint32_t i = 0; i < T; ++i) {
    double want = double(T) * P / (h * (i + 1));
    EXPECT_NEAR(double(count[i]), want, 2.0) << "torrent " << i;
  }
  EXPECT_GT(count[0], 18 * count[T - 1]);
  // And the requests themselves go there: torrent 0 gets the most `started`.
  auto n = started_per_torrent(plan);
  EXPECT_EQ(n[load_info_hash(0)], count[0]);
  EXPECT_EQ(n[load_info_hash(T - 1)], count[T - 1]);
}

// The guided lookup must pick exactly what a binary search over the whole
// cumulative table picks, for small and large tables and steep and flat laws.
TEST(LoadPlan, ZipfGuidedLookupEqualsTheFullSearch) {
  for (uint32_t T : {1u, 2u, 7u, 1000u, 250'000u})
    for (double zipf : {0.3, 1.0, 2.5}) {
      LoadPlan plan(model(T, 4, zipf));
      std::vector<double> cum(T);
      double sum = 0;
      for (uint32_t i = 0; i < T; ++i) cum[i] = sum += std::pow(double(i) + 1, -zipf);
      for (double& c : cum) c /= sum;
      cum.back() = 1.0;
      for (uint64_t m = 0; m < 200'000; m += 1 + m / 1000) {
        double u = std::fmod((double(m) + 0.5) * 0.6180339887498949, 1.0);
        auto want =
            std::min<size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin(), T - 1);
        ASSERT_EQ(plan.torrent_of(m), want) << "T " << T << " zipf " << zipf << " m " << m;
      }
    }
}

TEST(LoadPlan, SeederShareIsTheOneAskedFor) {
  for (double share : {0.0, 0.25, 0.75, 1.0}) {
    LoadModel m = model(50, 200, 1.0);
    m.seeders = share;
    LoadPlan plan(m);
    uint64_t seeds = 0;
    for (uint64_t k = 0; k < plan.swarm_size(); ++k) seeds += plan.request(k).left == 0;
    EXPECT_NEAR(double(seeds) / plan.swarm_size(), share, 0.02) << share;
  }
}

TEST(LoadPlan, LifecycleStartedThenNoneCompletedStopped) {
  LoadModel m = model(10, 100, 0);
  m.seeders = 0.5;
  m.completed = 0.2;
  m.stopped = 0.1;
  LoadPlan plan(m);
  const uint64_t n = plan.swarm_size(), rounds = 40;
  std::map<AnnounceEvent, uint64_t> events;
  for (uint64_t i = 0; i < n; ++i) {
    bool seed = plan.request(i).left == 0, completed = false, away = false;
    for (uint64_t r = 0; r < rounds; ++r) {
      AnnounceRequest a = plan.request(r * n + i);
      if (r > 0) ++events[a.event];
      switch (a.event) {
        case AnnounceEvent::kStarted:
          ASSERT_TRUE(r == 0 || away) << "started only first or after a stop";
          away = false;
          break;
        case AnnounceEvent::kStopped:
          ASSERT_FALSE(away) << "no second stop while away";
          away = true;
          break;
        case AnnounceEvent::kCompleted:
          ASSERT_FALSE(seed || completed) << "completed once, by a leecher";
          ASSERT_EQ(a.left, 0u);
          completed = true;
          break;
        case AnnounceEvent::kNone:
          ASSERT_FALSE(away) << "a stopped peer comes back with started";
          break;
      }
      // Once done, a leecher stays done.
      if (completed || seed) {
        ASSERT_EQ(a.left, 0u);
      }
    }
  }
  double re = double(n * (rounds - 1));
  // Stops: 10% of the rounds a peer is present, about 9% of all.
  EXPECT_NEAR(events[AnnounceEvent::kStopped] / re, 0.1 / 1.1, 0.015);
  EXPECT_NEAR(double(events[AnnounceEvent::kStopped]), double(events[AnnounceEvent::kStarted]),
              double(n) * 0.15);
  // Half the memberships leech; nearly all finish within 40 rounds at 20%.
  EXPECT_NEAR(double(events[AnnounceEvent::kCompleted]), n * 0.5, n * 0.08);
}

TEST(LoadPlan, PartitionsCoverTheSwarmOnce) {
  for (double zipf : {0.0, 1.2}) {
    LoadModel whole = model(7, 30, zipf);
    std::multiset<std::pair<InfoHash, uint16_t>> all, parts;
    LoadPlan one(whole);
    for (uint64_t k = 0; k < one.swarm_size(); ++k) {
      auto r = one.request(k);
      all.insert({r.info_hash, r.port});
    }
    for (uint32_t part = 0; part < 4; ++part) {
      LoadModel m = whole;
      m.part = part;
      m.parts = 4;
      LoadPlan p(m);
      for (uint64_t k = 0; k < p.swarm_size(); ++k) {
        auto r = p.request(k);
        parts.insert({r.info_hash, r.port});
      }
    }
    EXPECT_EQ(all, parts) << "zipf " << zipf;
  }
}

TEST(LoadPlan, GivenInfoHashesReplaceTheSyntheticOnes) {
  auto list = std::make_shared<std::vector<InfoHash>>(3);
  for (size_t i = 0; i < 3; ++i) (*list)[i].fill(uint8_t(0xa0 + i));
  LoadModel m = model(999, 4, 0);
  m.info_hashes = list;
  LoadPlan plan(m);
  EXPECT_EQ(plan.torrents(), 3u);
  auto n = started_per_torrent(plan);
  ASSERT_EQ(n.size(), 3u);
  for (const InfoHash& h : *list) EXPECT_EQ(n[h], 4u);
}

TEST(InfoHashList, ParsesHexWithCommentsAndBlankLines) {
  auto r = parse_info_hash_list(
      "# whitelist\n0123456789abcdef0123456789ABCDEF01234567\n\n  "
      "ffffffffffffffffffffffffffffffffffffffff  # last\r\n");
  ASSERT_TRUE(std::holds_alternative<std::vector<InfoHash>>(r));
  auto& v = std::get<std::vector<InfoHash>>(r);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0][0], 0x01);
  EXPECT_EQ(v[0][19], 0x67);
  EXPECT_EQ(v[1][10], 0xff);
}

TEST(InfoHashList, ErrorsNameTheLine) {
  auto bad = [](std::string_view text, size_t max = 1'000'000) {
    auto r = parse_info_hash_list(text, max);
    return std::holds_alternative<InfoHashListError>(r) ? std::get<InfoHashListError>(r)
                                                        : InfoHashListError{-1, "parsed"};
  };
  const std::string a(40, 'a'), b(40, 'b');
  EXPECT_EQ(bad(a + "\n" + a.substr(1) + "\n").line, 2);
  EXPECT_EQ(bad(a + "\n" + a + "g\n").line, 2);
  EXPECT_EQ(bad(a + "\nzz" + a.substr(2) + "\n").line, 2);
  EXPECT_EQ(bad("# only a comment\n").line, 0);
  EXPECT_EQ(bad("").what, "no info-hashes in it");
  // The repeat is named where it repeats, blank and comment lines counted.
  InfoHashListError rep = bad(a + "\n\n" + b + "\n# x\n" + a + "\n");
  EXPECT_EQ(rep.line, 5);
  EXPECT_EQ(rep.what, "repeats an info-hash given earlier");
  EXPECT_EQ(bad(a + "\n" + b + "\n", 1).line, 2);
}

TEST(LoadPlan, RequestMixIsAnExactPattern) {
  LoadModel m = model(10, 10, 1.0);
  m.announce_weight = 100;
  m.scrape_weight = 1;
  m.connect_weight = 1;
  LoadPlan plan(m);
  std::map<LoadKind, uint64_t> n;
  uint64_t next_announce = 0;
  for (uint64_t k = 0; k < 102 * 7; ++k) {
    LoadStep s = plan.step(k);
    if (s.kind == LoadKind::kAnnounce) {
      EXPECT_EQ(s.index, next_announce++) << k;
    }
    ++n[s.kind];
  }
  EXPECT_EQ(n[LoadKind::kAnnounce], 700u);
  EXPECT_EQ(n[LoadKind::kScrape], 7u);
  EXPECT_EQ(n[LoadKind::kConnect], 7u);
  m.scrape_weight = m.connect_weight = 0;
  LoadPlan only(m);
  EXPECT_EQ(only.step(12345).kind, LoadKind::kAnnounce);
  EXPECT_EQ(only.step(12345).index, 12345u);
}

TEST(LoadPlan, ScrapesAskForDistinctPopularTorrents) {
  LoadModel m = model(100, 100, 1.0);
  m.scrape_max = 10;
  LoadPlan plan(m);
  std::array<InfoHash, LoadPlan::kMaxScrapeHashes> out;
  std::map<InfoHash, uint64_t> asked;
  std::map<size_t, uint64_t> sizes;
  for (uint64_t s = 0; s < 5000; ++s) {
    size_t n = plan.scrape_hashes(s, out);
    ASSERT_GE(n, 1u);
    ASSERT_LE(n, 10u);
    ++sizes[n];
    std::set<InfoHash> distinct(out.begin(), out.begin() + static_cast<ptrdiff_t>(n));
    ASSERT_EQ(distinct.size(), n) << "scrape " << s << " repeats a torrent";
    for (size_t i = 0; i < n; ++i) ++asked[out[i]];
  }
  EXPECT_EQ(sizes.size(), 10u);  // every size from 1 to 10 occurs
  // The most popular torrent is asked about far more than the least.
  EXPECT_GT(asked[load_info_hash(0)], 10 * asked[load_info_hash(99)]);
  // A swarm of 3 torrents cannot give 10 distinct ones.
  LoadModel few = model(3, 5, 1.0);
  LoadPlan small(few);
  for (uint64_t s = 0; s < 100; ++s) EXPECT_LE(small.scrape_hashes(s, out), 3u);
}

TEST(LoadPlan, APeerKeepsItsFamilyInEveryTorrent) {
  LoadModel m = model(10, 400, 0);
  m.ipv6 = 0.3;
  m.announce_weight = 1;
  m.scrape_weight = m.connect_weight = 0;
  LoadPlan plan(m);
  std::map<uint16_t, std::set<bool>> family_by_peer;  // a peer is its port here
  uint64_t v6 = 0, n = 2 * plan.swarm_size();
  for (uint64_t k = 0; k < n; ++k) {
    bool f = plan.ipv6_request(k);
    family_by_peer[plan.request(k).port].insert(f);
    v6 += f;
  }
  ASSERT_EQ(family_by_peer.size(), 400u);
  size_t v6_peers = 0;
  for (auto& [port, fams] : family_by_peer) {
    EXPECT_EQ(fams.size(), 1u) << "peer on port " << port << " changed family";
    v6_peers += fams.count(true);
  }
  EXPECT_EQ(v6, v6_peers * 10 * 2);  // every torrent, both rounds
  EXPECT_NEAR(static_cast<double>(v6_peers) / 400, 0.3, 0.07);
  m.ipv6 = 0;
  EXPECT_FALSE(LoadPlan(m).ipv6_request(5));
  m.ipv6 = 1;
  EXPECT_TRUE(LoadPlan(m).ipv6_request(5));
}
