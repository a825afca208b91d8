#include "engine/peerwire/peer_session.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "engine/peerwire/choker.hpp"

using namespace swarmdial;

namespace {
constexpr int64_t kSec = 1'000'000'000;

std::string msg(uint8_t id, std::initializer_list<uint32_t> words = {}, std::string tail = "") {
  std::string body(1, static_cast<char>(id));
  for (uint32_t w : words)
    for (int s = 24; s >= 0; s -= 8) body.push_back(static_cast<char>(w >> s));
  body += tail;
  std::string out;
  uint32_t len = static_cast<uint32_t>(body.size());
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(len >> s));
  return out + body;
}

struct Fixture {
  std::vector<uint8_t> have;
  SessionConfig cfg;
  Fixture(uint32_t pieces = 10, bool all = true) {
    cfg.info_hash = *parse_info_hash_hex("0102030405060708090a0b0c0d0e0f1011121314");
    cfg.peer_id = make_peer_id(1);
    cfg.num_pieces = pieces;
    cfg.piece_length = 32768;
    cfg.total_length = uint64_t{32768} * (pieces - 1) + 1000;
    have.assign((pieces + 7) / 8, 0);
    for (uint32_t i = 0; i < pieces; ++i)
      if (all || i % 2 == 0) have[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
    cfg.have = &have;
    cfg.have_count = all ? pieces : (pieces + 1) / 2;
    cfg.reqq = 4;
  }
  std::string handshake(bool fast = true, bool ext = true) {
    auto hs = build_bt_handshake(cfg.info_hash, make_peer_id(99));
    if (!fast) hs[27] = 0;
    if (!ext) hs[25] = 0;
    return std::string(reinterpret_cast<char*>(hs.data()), hs.size());
  }
};

bool feed(PeerSession& s, const std::string& bytes, std::string& out, int64_t now = 0) {
  return s.on_receive(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), now,
      out);
}
}  // namespace

TEST(PeerSession, InboundHandshakeGreetsWithHaveAllAndExtension) {
  Fixture f;
  PeerSession s(f.cfg, false, 0);
  std::string out;
  ASSERT_TRUE(feed(s, f.handshake(), out));
  EXPECT_TRUE(s.handshake_done());
  ASSERT_GE(out.size(), 68u);
  EXPECT_EQ(out.substr(1, 19), "BitTorrent protocol");
  EXPECT_NE(out.find("4:reqqi4e"), std::string::npos) << "BEP 10 handshake advertises reqq";
  EXPECT_EQ(out.substr(out.size() - 5), std::string("\0\0\0\1\x0e", 5)) << "HAVE_ALL last";
}

TEST(PeerSession, BitfieldWithoutFastExtension) {
  Fixture f(10, false);
  PeerSession s(f.cfg, false, 0);
  std::string out;
  ASSERT_TRUE(feed(s, f.handshake(false, false), out));
  EXPECT_EQ(out.size(), 68u + 4 + 1 + 2);
  EXPECT_EQ(static_cast<uint8_t>(out[68 + 5]), 0xaa);
}

TEST(PeerSession, ServesRequestsAfterUnchokeInOrder) {
  Fixture f;
  PeerSession s(f.cfg, false, 0);
  std::string out;
  feed(s, f.handshake(), out);
  out.clear();
  feed(s, msg(2) + msg(6, {0, 0, 16384}), out);
  EXPECT_TRUE(s.peer_interested());
  EXPECT_FALSE(s.pop_request()) << "choked: nothing served";
  EXPECT_NE(out.find(std::string("\0\0\0\x0d\x10", 5)), std::string::npos) << "REJECT while choked";
  out.clear();
  s.set_choked(false, out);
  EXPECT_EQ(out, std::string("\0\0\0\1\1", 5));
  feed(s, msg(6, {1, 0, 16384}) + msg(6, {9, 0, 1000}), out);
  auto r1 = s.pop_request(), r2 = s.pop_request();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->piece, 1u);
  EXPECT_EQ(r2->piece, 9u);
  EXPECT_EQ(r2->length, 1000u);
  uint8_t hdr[13];
  PeerSession::piece_header(*r2, hdr);
  EXPECT_EQ((hdr[2] << 8) | hdr[3], 1009);
  EXPECT_EQ(hdr[4], 7);
  EXPECT_EQ(hdr[8], 9);
}

TEST(PeerSession, CancelRemovesQueuedRequest) {
  Fixture f;
  PeerSession s(f.cfg, false, 0);
  std::string out;
  feed(s, f.handshake(), out);
  s.set_choked(false, out);
  feed(s, msg(6, {1, 0, 16384}) + msg(6, {2, 0, 16384}) + msg(8, {1, 0, 16384}), out);
  EXPECT_EQ(s.queued_requests(), 1u);
  EXPECT_EQ(s.pop_request()->piece, 2u);
}

TEST(PeerSession, MessagesSplitAcrossReceives) {
  Fixture f;
  PeerSession s(f.cfg, false, 0);
  std::string out;
  for (char c : f.handshake()) ASSERT_TRUE(feed(s, std::string(1, c), out));
  s.set_choked(false, out);
  std::string rest = msg(2) + msg(6, {3, 16384, 16384});
  for (char c : rest) ASSERT_TRUE(feed(s, std::string(1, c), out));
  auto r = s.pop_request();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->begin, 16384u);
}

struct Misbehaviour {
  const char* name;
  std::string bytes;
  Disconnect want;
};

TEST(PeerSession, EveryLimitDisconnectsWithAReason) {
  Fixture f;
  std::vector<Misbehaviour> cases = {
      {"huge length", std::string("\0\1\0\0\7", 5), Disconnect::kMessageTooLarge},
      {"request > 16 KiB", msg(6, {0, 0, 16385}), Disconnect::kRequestTooLarge},
      {"request past piece end", msg(6, {0, 32768 - 100, 16384}), Disconnect::kRequestOutOfRange},
      {"request past last piece", msg(6, {9, 0, 1001}), Disconnect::kRequestOutOfRange},
      {"request bad piece", msg(6, {10, 0, 16384}), Disconnect::kRequestOutOfRange},
      {"request flood",
       msg(6, {0, 0, 1}) + msg(6, {0, 1, 1}) + msg(6, {0, 2, 1}) + msg(6, {0, 3, 1}) +
           msg(6, {0, 4, 1}),
       Disconnect::kRequestFlood},
      {"bitfield wrong size", msg(5, {}, std::string(3, '\0')), Disconnect::kBadBitfield},
      {"bitfield spare bits", msg(5, {}, std::string("\0\x3f", 2)), Disconnect::kBadBitfield},
      {"have out of range", msg(4, {10}), Disconnect::kBadHave},
      {"piece to a seed", msg(7, {0, 0}, "x"), Disconnect::kBadMessage},
      {"bad extended", msg(20, {}, std::string("\0garbage", 8)), Disconnect::kBadExtended},
      {"seed meets seed", msg(14), Disconnect::kBothSeeds},
  };
  for (auto& c : cases) {
    PeerSession s(f.cfg, false, 0);
    std::string out;
    ASSERT_TRUE(feed(s, f.handshake(), out));
    s.set_choked(false, out);
    EXPECT_FALSE(feed(s, c.bytes, out)) << c.name;
    EXPECT_EQ(s.reason(), c.want) << c.name << ": got " << disconnect_name(s.reason());
  }
}

TEST(PeerSession, HandshakeFailures) {
  Fixture f;
  {
    PeerSession s(f.cfg, false, 0);
    std::string out;
    std::string hs = f.handshake();
    hs[30] ^= 1;
    EXPECT_FALSE(feed(s, hs, out));
    EXPECT_EQ(s.reason(), Disconnect::kUnknownInfoHash);
  }
  {
    PeerSession s(f.cfg, false, 0);
    std::string out;
    EXPECT_FALSE(feed(s, std::string(68, 'G'), out));
    EXPECT_EQ(s.reason(), Disconnect::kBadHandshake);
  }
  {
    PeerSession s(f.cfg, false, 0);
    std::string out;
    EXPECT_TRUE(s.on_tick(5 * kSec, out));
    EXPECT_FALSE(s.on_tick(11 * kSec, out));
    EXPECT_EQ(s.reason(), Disconnect::kHandshakeTimeout);
  }
  {
    PeerSession s(f.cfg, true, 0);
    std::string out;
    s.start(out);
    EXPECT_EQ(out.size(), 68u) << "outbound sends its handshake first";
    auto self = build_bt_handshake(f.cfg.info_hash, f.cfg.peer_id);
    EXPECT_FALSE(feed(s, std::string(reinterpret_cast<char*>(self.data()), 68), out));
    EXPECT_EQ(s.reason(), Disconnect::kSelfConnection);
  }
}

TEST(PeerSession, LateBitfieldOfTheRightSizeIsTolerated) {
  Fixture f;
  PeerSession s(f.cfg, false, 0);
  std::string out;
  feed(s, f.handshake(), out);
  EXPECT_TRUE(feed(s, msg(15) + msg(17, {3}) + msg(5, {}, std::string("\x08\0", 2)), out));
  EXPECT_EQ(s.peer_have_count(), 1u);
}

TEST(PeerSession, KeepAliveAndIdleTimeout) {
  Fixture f;
  PeerSession s(f.cfg, false, 0);
  std::string out;
  feed(s, f.handshake(), out, 0);
  out.clear();
  EXPECT_TRUE(s.on_tick(61 * kSec, out));
  EXPECT_EQ(out, std::string(4, '\0'));
  EXPECT_FALSE(s.on_tick(121 * kSec, out));
  EXPECT_EQ(s.reason(), Disconnect::kIdleTimeout);
}

TEST(PeerSession, ChokeRejectsPendingWithFastExtension) {
  Fixture f;
  PeerSession s(f.cfg, false, 0);
  std::string out;
  feed(s, f.handshake(), out);
  s.set_choked(false, out);
  feed(s, msg(6, {1, 0, 100}) + msg(6, {2, 0, 100}), out);
  out.clear();
  s.set_choked(true, out);
  EXPECT_EQ(s.queued_requests(), 0u);
  EXPECT_EQ(out.size(), 5u + 2 * 17u) << "CHOKE plus one REJECT per pending request";
}

TEST(Choker, KeepsFastestAndRotatesOptimistic) {
  Choker c(3, 30 * kSec);
  std::vector<ChokerPeer> peers;
  for (uint32_t i = 0; i < 6; ++i) peers.push_back({i, true, 1000u * i});
  peers.push_back({99, false, 1'000'000});
  auto u1 = c.decide(peers, 0);
  ASSERT_EQ(u1.size(), 3u);
  EXPECT_EQ(u1[0], 5u);
  EXPECT_EQ(u1[1], 4u);
  EXPECT_TRUE(std::find(u1.begin(), u1.end(), 99u) == u1.end()) << "not interested: choked";
  auto u2 = c.decide(peers, 10 * kSec);
  EXPECT_EQ(u2[2], u1[2]) << "optimistic slot held for its interval";
  auto u3 = c.decide(peers, 31 * kSec);
  EXPECT_NE(u3[2], u1[2]) << "then rotated";
  Choker few(8);
  EXPECT_EQ(few.decide({{1, true, 0}, {2, true, 0}}, 0).size(), 2u);
}

TEST(PeerSession, LosingInterestIsNotTheSameAsNeverBeingInterested) {
  Fixture f;
  PeerSession s(f.cfg, false, 0);
  std::string out;
  ASSERT_TRUE(feed(s, f.handshake(), out));
  ASSERT_TRUE(feed(s, msg(3), out));  // not interested, never was
  EXPECT_FALSE(s.peer_lost_interest());
  ASSERT_TRUE(feed(s, msg(2), out));  // interested
  EXPECT_FALSE(s.peer_lost_interest());
  ASSERT_TRUE(feed(s, msg(3), out));  // done with us
  EXPECT_TRUE(s.peer_lost_interest());
}

// A piece whose file changed on disk: new peers get a bitfield without it
// (not HAVE_ALL), its requests are refused, a BEP 54 peer is told with
// lt_donthave, and HAVE announces it once it verified again.
TEST(PeerSession, WithheldPiecesAreNotAdvertisedOrServed) {
  Fixture f;
  std::vector<std::atomic<uint8_t>> withheld(10);
  withheld[3] = 1;
  f.cfg.withheld = withheld.data();
  PeerSession s(f.cfg, false, 0);
  std::string out;
  ASSERT_TRUE(feed(s, f.handshake(), out));
  EXPECT_EQ(out.find(std::string("\0\0\0\1\x0e", 5)), std::string::npos) << "no HAVE_ALL";
  std::string bitfield = std::string("\0\0\0\3\5", 5) + std::string("\xef\xc0", 2);
  EXPECT_NE(out.find(bitfield), std::string::npos) << "bitfield without piece 3";
  out.clear();
  // The peer's extension handshake maps lt_donthave to its id 7.
  feed(s, msg(20, {}, std::string(1, '\0') + "d1:md11:lt_donthavei7eee"), out);
  s.set_choked(false, out);
  out.clear();
  feed(s, msg(2) + msg(6, {3, 0, 16384}), out);
  EXPECT_FALSE(s.pop_request()) << "a withheld piece is not queued";
  EXPECT_NE(out.find(std::string("\0\0\0\x0d\x10\0\0\0\3", 9)), std::string::npos) << "REJECT";
  out.clear();
  s.on_piece_withheld(5, out);
  EXPECT_EQ(out, std::string("\0\0\0\6\x14\x07\0\0\0\5", 10)) << "lt_donthave 5";
  out.clear();
  withheld[3] = 0;
  s.on_piece_restored(3, out);
  EXPECT_EQ(out, std::string("\0\0\0\5\4\0\0\0\3", 9)) << "HAVE 3";
  feed(s, msg(6, {3, 0, 16384}), out);
  auto r = s.pop_request();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->piece, 3u);
}
