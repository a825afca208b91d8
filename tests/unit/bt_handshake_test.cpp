#include "engine/peerwire/bt_handshake.hpp"

#include <gtest/gtest.h>

#include <cstring>

using namespace swarmdial;

TEST(BtHandshake, RoundTrip) {
  auto ih = *parse_info_hash_hex("aabbccddeeff00112233445566778899aabbccdd");
  PeerId id = make_peer_id(5);
  auto bytes = build_bt_handshake(ih, id);
  EXPECT_EQ(bytes[0], 19);
  EXPECT_EQ(std::memcmp(&bytes[1], "BitTorrent protocol", 19), 0);
  auto hs = parse_bt_handshake(bytes);
  ASSERT_TRUE(hs);
  EXPECT_EQ(hs->info_hash, ih);
  EXPECT_EQ(hs->peer_id, id);
  EXPECT_TRUE(hs->reserved[5] & 0x10) << "advertises BEP 10";
  EXPECT_TRUE(hs->reserved[7] & 0x04) << "advertises BEP 6";
  EXPECT_EQ(std::memcmp(id.data(), "-SZ0100-", 8), 0);
}

TEST(BtHandshake, RejectsGarbage) {
  std::array<uint8_t, kBtHandshakeSize> bytes{};
  EXPECT_FALSE(parse_bt_handshake(bytes));
  auto good = build_bt_handshake(InfoHash{}, PeerId{});
  good[3] = 'X';
  EXPECT_FALSE(parse_bt_handshake(good));
  auto short_one = build_bt_handshake(InfoHash{}, PeerId{});
  EXPECT_FALSE(parse_bt_handshake(std::span<const uint8_t>(short_one.data(), 67)));
  EXPECT_FALSE(parse_info_hash_hex("zz"));
  EXPECT_FALSE(parse_info_hash_hex(std::string(40, 'g')));
}

TEST(BtHandshake, ClientNames) {
  auto id = [](const char* s) {
    PeerId p{};
    std::memcpy(p.data(), s, std::min<size_t>(20, std::strlen(s)));
    return p;
  };
  EXPECT_EQ(client_from_peer_id(id("-LT2090-abcdefghijkl")), "libtorrent 2.0.9");
  EXPECT_EQ(client_from_peer_id(id("-TR4050-abcdefghijkl")), "Transmission 4.0.5");
  EXPECT_EQ(client_from_peer_id(id("-qB4615-abcdefghijkl")), "qBittorrent 4.6.1.5");
  EXPECT_EQ(client_from_peer_id(id("-ZZ1000-abcdefghijkl")), "ZZ 1.0.0");
  EXPECT_EQ(client_from_peer_id(id("A2-1-36-0-abcdefghij")), "aria2 1.36.0");
  EXPECT_EQ(client_from_peer_id(id("M7-4-3--abcdefghijkl")), "BitTorrent 7.4.3");
  PeerId junk{};
  junk.fill(0xff);
  EXPECT_EQ(client_from_peer_id(junk), "unknown");
}
