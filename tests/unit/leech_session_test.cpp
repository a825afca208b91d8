#include "engine/peerwire/leech_session.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstring>
#include <random>
#include <set>

#include "engine/peerwire/peer_session.hpp"
#include "engine/peerwire/torrent_writer.hpp"
#include "tools/swarm/swarm_plan.hpp"

using namespace swarmdial;

namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A torrent over random bytes, written by the writer and read back by the
// real metainfo parser.
struct Torrent {
  std::string data;
  Metainfo meta;
  std::vector<uint8_t> have;
  SessionConfig seed_cfg;
  Torrent(uint32_t piece_length, uint64_t length) {
    std::mt19937_64 rng(7);
    data.resize(length);
    for (auto& c : data) c = static_cast<char>(rng());
    TorrentSpec spec;
    spec.name = "t.bin";
    spec.piece_length = piece_length;
    spec.length = length;
    for (uint64_t off = 0; off < length; off += piece_length) {
      std::array<uint8_t, 20> h;
      SHA1(reinterpret_cast<const uint8_t*>(data.data()) + off,
           std::min<uint64_t>(piece_length, length - off), h.data());
      spec.piece_hashes.push_back(h);
    }
    spec.announce_tiers = {{"udp://127.0.0.1:6969"}, {"http://127.0.0.1:8000/announce"}};
    auto parsed = parse_metainfo(write_torrent(spec));
    if (auto* err = std::get_if<std::string>(&parsed)) ADD_FAILURE() << *err;
    meta = std::get<Metainfo>(std::move(parsed));
    have.assign((meta.num_pieces + 7) / 8, 0xff);
    if (meta.num_pieces % 8) have.back() = static_cast<uint8_t>(0xff << (8 - meta.num_pieces % 8));
    seed_cfg.info_hash = meta.info_hash;
    seed_cfg.peer_id = make_peer_id(1);
    seed_cfg.num_pieces = meta.num_pieces;
    seed_cfg.piece_length = meta.piece_length;
    seed_cfg.total_length = meta.total_length;
    seed_cfg.have = &have;
    seed_cfg.have_count = meta.num_pieces;
  }
};

// Runs a seeding session against a leech session in memory until neither
// has anything to say. `mangle` may alter each served block.
template <typename Mangle>
void run_pair(PeerSession& seed, LeechSession& leech, const std::string& data, Mangle&& mangle) {
  std::string to_leech, to_seed;
  seed.start(to_leech);
  leech.start(to_seed);
  for (int round = 0; round < 100000 && (!to_leech.empty() || !to_seed.empty()); ++round) {
    std::string a, b;
    if (!to_seed.empty() && !seed.on_receive(bytes_of(to_seed), 0, a)) break;
    if (seed.handshake_done()) seed.set_choked(false, a);
    while (auto r = seed.pop_request()) {
      uint8_t hdr[13];
      PeerSession::piece_header(*r, hdr);
      std::string block = data.substr(uint64_t{r->piece} * 65536 + r->begin, r->length);
      mangle(*r, block);
      a.append(reinterpret_cast<char*>(hdr), 13);
      a += block;
    }
    to_seed.clear();
    if (!to_leech.empty() && !leech.on_receive(bytes_of(to_leech), b)) {
      to_seed = b;
      break;
    }
    to_leech = a;
    to_seed = b;
  }
}

}  // namespace

TEST(TorrentWriter, RoundTripsThroughTheParser) {
  Torrent t(65536, 65536 * 3 + 100);
  EXPECT_EQ(t.meta.num_pieces, 4u);
  EXPECT_EQ(t.meta.total_length, 65536u * 3 + 100);
  EXPECT_EQ(t.meta.name, "t.bin");
  ASSERT_EQ(t.meta.announce_tiers.size(), 2u);
  EXPECT_EQ(t.meta.announce_tiers[1][0], "http://127.0.0.1:8000/announce");
}

TEST(LeechSession, DownloadsAndVerifiesEveryPieceFromTheSeedSession) {
  Torrent t(65536, 65536 * 9 + 1234);
  PeerSession seed(t.seed_cfg, true, 0);
  LeechConfig lc;
  lc.meta = &t.meta;
  lc.peer_id = make_peer_id(2);
  lc.pipeline = 5;
  lc.first_piece = 3;
  LeechSession leech(lc);
  run_pair(seed, leech, t.data, [](const BlockRequest&, std::string&) {});
  EXPECT_EQ(leech.end(), LeechEnd::kComplete);
  EXPECT_TRUE(leech.complete());
  EXPECT_EQ(leech.pieces_verified(), t.meta.num_pieces);
  EXPECT_EQ(leech.bytes_verified(), t.meta.total_length);
  EXPECT_EQ(leech.hash_failures(), 0u);
  EXPECT_EQ(seed.bytes_uploaded(), 0u);  // the I/O layer reports sends; none here
}

TEST(LeechSession, RefetchesAPieceThatFailsItsHash) {
  Torrent t(65536, 65536 * 4);
  PeerSession seed(t.seed_cfg, true, 0);
  LeechConfig lc;
  lc.meta = &t.meta;
  lc.peer_id = make_peer_id(2);
  LeechSession leech(lc);
  int corrupted = 0;
  run_pair(seed, leech, t.data, [&](const BlockRequest& r, std::string& block) {
    if (r.piece == 2 && r.begin == 16384 && corrupted++ == 0) block[5] ^= 1;
  });
  EXPECT_EQ(leech.end(), LeechEnd::kComplete);
  EXPECT_EQ(leech.hash_failures(), 1u);
  EXPECT_EQ(leech.bytes_verified(), t.meta.total_length);
  EXPECT_GT(leech.bytes_received(), t.meta.total_length);
}

TEST(LeechSession, GivesUpOnAPeerThatAlwaysSendsBadData) {
  Torrent t(65536, 65536 * 4);
  PeerSession seed(t.seed_cfg, true, 0);
  LeechConfig lc;
  lc.meta = &t.meta;
  lc.peer_id = make_peer_id(2);
  lc.max_hash_failures = 3;
  LeechSession leech(lc);
  run_pair(seed, leech, t.data, [](const BlockRequest&, std::string& block) { block[0] ^= 1; });
  EXPECT_EQ(leech.end(), LeechEnd::kTooManyFails);
  EXPECT_EQ(leech.pieces_verified(), 0u);
}

TEST(LeechSession, RejectsHostileSeeders) {
  Torrent t(65536, 65536 * 4);
  LeechConfig lc;
  lc.meta = &t.meta;
  lc.peer_id = make_peer_id(2);
  auto hs = [&](const InfoHash& ih) {
    auto h = build_bt_handshake(ih, make_peer_id(5));
    return std::string(reinterpret_cast<char*>(h.data()), h.size());
  };
  auto msg = [](uint8_t id, std::initializer_list<uint32_t> words, std::string tail = "") {
    std::string body(1, static_cast<char>(id));
    for (uint32_t w : words)
      for (int s = 24; s >= 0; s -= 8) body.push_back(static_cast<char>(w >> s));
    body += tail;
    std::string out;
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(body.size() >> s));
    return out + body;
  };
  std::string out;
  {
    LeechSession l(lc);
    InfoHash other = t.meta.info_hash;
    other[0] ^= 1;
    EXPECT_FALSE(l.on_receive(bytes_of(hs(other)), out));
    EXPECT_EQ(l.end(), LeechEnd::kWrongInfoHash);
  }
  {
    LeechSession l(lc);
    EXPECT_FALSE(l.on_receive(bytes_of(std::string(68, 'x')), out));
    EXPECT_EQ(l.end(), LeechEnd::kBadHandshake);
  }
  {
    LeechSession l(lc);  // a block outside the torrent
    EXPECT_FALSE(l.on_receive(bytes_of(hs(t.meta.info_hash) + msg(7, {9, 0}, "abc")), out));
    EXPECT_EQ(l.end(), LeechEnd::kBadPiece);
  }
  {
    LeechSession l(lc);  // a block of the wrong length
    EXPECT_FALSE(l.on_receive(bytes_of(hs(t.meta.info_hash) + msg(7, {1, 0}, "abc")), out));
    EXPECT_EQ(l.end(), LeechEnd::kBadPiece);
  }
  {
    LeechSession l(lc);  // a 1 MiB length prefix
    EXPECT_FALSE(
        l.on_receive(bytes_of(hs(t.meta.info_hash) +
                              msg(7, {}, "").replace(0, 4, std::string("\x00\x10\x00\x00", 4))),
                     out));
    EXPECT_EQ(l.end(), LeechEnd::kMessageTooLarge);
  }
  {
    LeechSession l(lc);  // a bitfield of the wrong size
    EXPECT_FALSE(l.on_receive(bytes_of(hs(t.meta.info_hash) + msg(5, {1})), out));
    EXPECT_EQ(l.end(), LeechEnd::kBadMessage);
  }
  {
    LeechSession l(lc);  // the peer hangs up
    EXPECT_FALSE(l.on_receive({}, out));
    EXPECT_EQ(l.end(), LeechEnd::kPeerClosed);
  }
}

TEST(SwarmPlan, GivesEveryPeerItsOwnLoopbackAddressAndTheRightMix) {
  SwarmCounts c{.leechers = 3, .slow = 2, .dead = 300, .blackhole = 5};
  auto peers = plan_swarm(c, *parse_ip("127.77.0.250"), 6881, 1);
  ASSERT_EQ(peers.size(), 310u);
  std::array<uint32_t, kBehaviourCount> seen{};
  std::set<std::string> addrs;
  for (auto& p : peers) {
    ++seen[static_cast<size_t>(p.behaviour)];
    EXPECT_EQ(p.addr.port, 6881);
    EXPECT_EQ(p.addr.ip.bytes[0], 127);
    EXPECT_NE(p.addr.ip.bytes[3], 0);
    EXPECT_NE(p.addr.ip.bytes[3], 255);
    addrs.insert(format_ip(p.addr.ip));
  }
  EXPECT_EQ(addrs.size(), 310u);
  EXPECT_EQ(seen[0], 3u);
  EXPECT_EQ(seen[1], 2u);
  EXPECT_EQ(seen[2], 300u);
  EXPECT_EQ(seen[3], 5u);
  EXPECT_EQ(format_ip(peers[0].addr.ip), "127.77.0.251");
  // The same seed gives the same swarm; the behaviours are shuffled.
  auto again = plan_swarm(c, *parse_ip("127.77.0.250"), 6881, 1);
  for (size_t i = 0; i < peers.size(); ++i) EXPECT_EQ(peers[i].behaviour, again[i].behaviour);
  EXPECT_THROW(plan_swarm(c, *parse_ip("10.0.0.1"), 6881, 1), std::invalid_argument);
  EXPECT_THROW(plan_swarm(c, *parse_ip("127.255.255.200"), 6881, 1), std::invalid_argument);
}
