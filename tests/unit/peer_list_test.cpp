#include "engine/peer_list.hpp"

#include <gtest/gtest.h>

namespace swarmdial {
namespace {

TEST(PeerList, EachLineIsAPeerForEveryTorrentOrForTheOneItNames) {
  auto r = parse_peer_list(
      "# exported\n"
      "198.18.0.2:6881\n"
      "\n"
      "198.18.0.3:51413  0123456789ABCDEF0123456789abcdef01234567  # one torrent\r\n"
      "[2001:db8::1]:6881\t0123456789abcdef0123456789abcdef01234567\n");
  auto* peers = std::get_if<std::vector<ListedPeer>>(&r);
  ASSERT_NE(peers, nullptr);
  ASSERT_EQ(peers->size(), 3u);
  EXPECT_EQ(format_endpoint((*peers)[0].peer), "198.18.0.2:6881");
  EXPECT_FALSE((*peers)[0].torrent.has_value());
  ASSERT_TRUE((*peers)[1].torrent.has_value());
  EXPECT_EQ((*(*peers)[1].torrent)[0], 0x01);
  EXPECT_EQ((*(*peers)[1].torrent)[19], 0x67);
  EXPECT_EQ((*peers)[2].torrent, (*peers)[1].torrent);
  EXPECT_FALSE((*peers)[2].peer.ip.is_v4());
}

TEST(PeerList, ABadLineIsNamedByNumber) {
  for (const char* bad :
       {"198.18.0.2:6881\n198.18.0.3\n", "198.18.0.2:6881\n198.18.0.3:1 abc\n",
        "198.18.0.2:6881\n198.18.0.3:1 0123456789abcdef0123456789abcdef0123456\n",
        "198.18.0.2:6881\n198.18.0.3:1 0123456789abcdef0123456789abcdef01234567 x\n"}) {
    auto r = parse_peer_list(bad);
    auto* err = std::get_if<TargetParseError>(&r);
    ASSERT_NE(err, nullptr) << bad;
    EXPECT_EQ(err->line, 2) << bad;
  }
}

}  // namespace
}  // namespace swarmdial
