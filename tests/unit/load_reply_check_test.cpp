// What the tracker load generator accepts as an answer, and the BEP 48
// scrape URL it derives.
#include "engine/tracker/load_reply_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/tracker/http_scrape.hpp"
#include "engine/tracker/tracker_url.hpp"

using namespace swarmdial;

namespace {

std::vector<uint8_t> be(std::initializer_list<uint32_t> words, size_t extra = 0) {
  std::vector<uint8_t> v;
  for (uint32_t w : words)
    for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(w >> s));
  v.resize(v.size() + extra, 7);
  return v;
}

std::string info_hash_key(char c) {
  return "20:" + std::string(20, c);
}

}  // namespace

TEST(LoadReplyCheck, UdpAnnounce) {
  // action, tid, interval, leechers, seeders, then 6-byte peers.
  auto ok = check_udp_announce_reply(be({1, 9, 1800, 3, 4}, 18));
  EXPECT_EQ(ok.verdict, ReplyVerdict::kOk);
  EXPECT_EQ(ok.peers, 3u);
  EXPECT_EQ(ok.interval_s, 1800);
  EXPECT_EQ(check_udp_announce_reply(be({1, 9, 1800, 3, 4}, 17)).verdict, ReplyVerdict::kBadReply);
  EXPECT_EQ(check_udp_announce_reply(be({1, 9, 0, 3, 4})).verdict, ReplyVerdict::kBadReply);
  EXPECT_EQ(check_udp_announce_reply(be({1, 9})).verdict,
            ReplyVerdict::kBadReply);  // opentracker's
  EXPECT_EQ(check_udp_announce_reply(be({3, 9}, 5)).verdict, ReplyVerdict::kTrackerError);
  EXPECT_EQ(check_udp_announce_reply(be({2, 9, 1800, 3, 4})).verdict, ReplyVerdict::kBadReply);
  auto v6 = check_udp_announce_reply(be({1, 9, 60, 0, 0}, 36), true);
  EXPECT_EQ(v6.peers, 2u);
  EXPECT_EQ(v6.peers6, 2u);  // over IPv6 every record is an IPv6 peer
  EXPECT_EQ(check_udp_announce_reply(be({1, 9, 60, 0, 0}, 36)).peers6, 0u);
  // IPv4 records sent to an IPv6 requester (bittorrent-tracker does) do not fit.
  EXPECT_EQ(check_udp_announce_reply(be({1, 9, 60, 0, 0}, 12), true).verdict,
            ReplyVerdict::kBadReply);
}

TEST(LoadReplyCheck, NoPeersFromASwarmOfOthersIsWithholding) {
  ReplyFacts empty = check_udp_announce_reply(be({1, 9, 1800, 3, 4}));
  EXPECT_EQ(empty.verdict, ReplyVerdict::kOk);
  EXPECT_EQ(empty.swarm, 7u);
  EXPECT_TRUE(withholds_peers(empty, 30));
  EXPECT_FALSE(withholds_peers(empty, 0));  // none asked for
  EXPECT_FALSE(withholds_peers(check_udp_announce_reply(be({1, 9, 1800, 1, 0})), 30));  // alone
  EXPECT_FALSE(withholds_peers(check_udp_announce_reply(be({1, 9, 1800, 3, 4}, 6)), 30));
  EXPECT_TRUE(withholds_peers(
      check_http_announce_body("d8:completei5e10:incompletei2e8:intervali60e5:peers0:e"), 50));
}

TEST(LoadReplyCheck, UdpScrapeHasOneEntryPerHash) {
  EXPECT_EQ(check_udp_scrape_reply(be({2, 9, 1, 2, 3, 4, 5, 6}), 2).verdict, ReplyVerdict::kOk);
  EXPECT_EQ(check_udp_scrape_reply(be({2, 9, 1, 2, 3}), 2).verdict, ReplyVerdict::kBadReply);
  EXPECT_EQ(check_udp_scrape_reply(be({2, 9, 1, 2, 3, 4, 5, 6, 7}), 2).verdict,
            ReplyVerdict::kBadReply);
  EXPECT_EQ(check_udp_scrape_reply(be({3, 9}), 2).verdict, ReplyVerdict::kTrackerError);
}

TEST(LoadReplyCheck, HttpAnnounce) {
  auto ok = check_http_announce_body("d8:intervali900e5:peers12:abcdefghijkle");
  EXPECT_EQ(ok.verdict, ReplyVerdict::kOk);
  EXPECT_EQ(ok.peers, 2u);
  EXPECT_EQ(ok.interval_s, 900);
  auto dict_peers = check_http_announce_body(
      "d8:intervali900e5:peersld2:ip1:a4:porti1eee6:peers618:" + std::string(18, 'x') + "e");
  EXPECT_EQ(dict_peers.verdict, ReplyVerdict::kOk);
  EXPECT_EQ(dict_peers.peers, 2u);
  EXPECT_EQ(dict_peers.peers6, 1u);
  EXPECT_EQ(ok.peers6, 0u);
  EXPECT_EQ(check_http_announce_body("d8:intervali900e5:peers5:abcdee").verdict,
            ReplyVerdict::kBadReply);
  EXPECT_EQ(check_http_announce_body("d5:peers0:e").verdict, ReplyVerdict::kBadReply);
  EXPECT_EQ(check_http_announce_body("d8:intervali0e5:peers0:e").verdict, ReplyVerdict::kBadReply);
  EXPECT_EQ(check_http_announce_body("d14:failure reason3:note").verdict,
            ReplyVerdict::kTrackerError);
  EXPECT_EQ(check_http_announce_body("d8:interval").verdict, ReplyVerdict::kBadReply);
  EXPECT_EQ(check_http_announce_body("<html>").verdict, ReplyVerdict::kBadReply);
  EXPECT_EQ(check_http_announce_body(std::string(100, '[')).verdict, ReplyVerdict::kBadReply);
}

TEST(LoadReplyCheck, HttpScrapeKeysAreTwentyByteHashes) {
  std::string entry = "d8:completei1e10:downloadedi2e10:incompletei3ee";
  EXPECT_EQ(check_http_scrape_body("d5:filesd" + info_hash_key('a') + entry + "ee", 2).verdict,
            ReplyVerdict::kOk);
  EXPECT_EQ(check_http_scrape_body(
                "d5:filesd" + info_hash_key('a') + entry + info_hash_key('b') + entry + "ee", 2)
                .verdict,
            ReplyVerdict::kOk);
  // More torrents than asked for.
  EXPECT_EQ(check_http_scrape_body(
                "d5:filesd" + info_hash_key('a') + entry + info_hash_key('b') + entry + "ee", 1)
                .verdict,
            ReplyVerdict::kBadReply);
  // A key re-encoded as UTF-8 (bittorrent-tracker's): 30 bytes, not 20.
  EXPECT_EQ(check_http_scrape_body("d5:filesd30:" + std::string(30, 'c') + entry + "ee", 1).verdict,
            ReplyVerdict::kBadReply);
  EXPECT_EQ(
      check_http_scrape_body("d5:filesd" + info_hash_key('a') + "d8:completei1eeee", 1).verdict,
      ReplyVerdict::kBadReply);
  EXPECT_EQ(check_http_scrape_body("d14:failure reason2:noe", 1).verdict,
            ReplyVerdict::kTrackerError);
}

TEST(HttpScrape, Bep48PathFromTheAnnounceUrl) {
  auto path = [](const char* url) {
    std::string err;
    auto u = parse_tracker_url(url, err);
    EXPECT_TRUE(u) << err;
    return u ? http_scrape_path(*u) : std::nullopt;
  };
  EXPECT_EQ(path("http://t/announce"), "/scrape");
  EXPECT_EQ(path("http://t/x/announce.php?passkey=a/b"), "/x/scrape.php?passkey=a/b");
  EXPECT_EQ(path("http://t/announce?x=1"), "/scrape?x=1");
  EXPECT_EQ(path("http://t/a"), std::nullopt);
  EXPECT_EQ(path("http://t/x/announce/y"), std::nullopt);
  std::vector<InfoHash> hashes(2);
  hashes[0].fill(0xab);
  hashes[1].fill('a');
  EXPECT_EQ(
      http_scrape_target("/scrape?k=1", hashes), "/scrape?k=1&info_hash=" + std::string() + [] {
        std::string s;
        for (int i = 0; i < 20; ++i) s += "%AB";
        return s;
      }() + "&info_hash=" + std::string(20, 'a'));
}
