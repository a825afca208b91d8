// MSE/PE between our two roles (libtorrent and Transmission are the
// outside check: tests/interop/test_seed_encryption.py): every policy pair,
// any split of the bytes, and each way a peer can get it wrong.
#include "engine/peerwire/mse_handshake.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace swarmdial {
namespace {

InfoHash ih(uint8_t b) {
  InfoHash h;
  h.fill(b);
  return h;
}

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Delivers `from` to `to` in chunks of `step` bytes (0: all at once).
MseStatus deliver(MseHandshake& to, std::string& from, std::string& reply, size_t step) {
  MseStatus st = MseStatus::kMore;
  std::string data;
  data.swap(from);
  for (size_t at = 0; at < data.size();) {
    size_t n = step ? std::min(step, data.size() - at) : data.size() - at;
    st = to.on_receive(bytes(data).subspan(at, n), reply);
    at += n;
    if (st != MseStatus::kMore) break;
  }
  return st;
}

struct Pair {
  MseHandshake a, b;
  MseStatus sa = MseStatus::kMore, sb = MseStatus::kMore;
  std::string a_out, b_out;
  Pair(EncryptionPolicy pa, EncryptionPolicy pb, const InfoHash& skey, std::vector<InfoHash> known,
       const std::string& ia)
      : a(MseHandshake::outbound(pa, skey, ia)), b(MseHandshake::inbound(pb, known)) {}
  // Runs the exchange until both are done or one fails.
  void run(size_t step) {
    a.start(a_out);
    for (int round = 0; round < 6; ++round) {
      if (!a_out.empty() && sb == MseStatus::kMore) sb = deliver(b, a_out, b_out, step);
      if (!b_out.empty() && sa == MseStatus::kMore) sa = deliver(a, b_out, a_out, step);
      if (sa == MseStatus::kFailed || sb == MseStatus::kFailed) return;
      if (sa == MseStatus::kDone && sb == MseStatus::kDone) return;
    }
  }
};

const std::string kIa = std::string(
                            "\x13"
                            "BitTorrent protocol") +
                        std::string(48, 'h');

TEST(MseHandshake, FindsItsTorrentAmongThousandsBySkey) {
  // A seeding node's shared set: one lookup per inbound handshake.
  std::vector<InfoHash> torrents;
  for (uint32_t i = 0; i < 5000; ++i) {
    InfoHash h{};
    for (int b = 0; b < 4; ++b) h[b] = static_cast<uint8_t>(i >> (8 * b));
    torrents.push_back(h);
  }
  MseSkeys skeys(torrents);
  EXPECT_EQ(skeys.size(), 5000u);
  for (uint32_t pick : {0u, 2741u, 4999u}) {
    MseHandshake a = MseHandshake::outbound(EncryptionPolicy::kRequire, torrents[pick], kIa);
    MseHandshake b = MseHandshake::inbound(EncryptionPolicy::kRequire, skeys);
    std::string a_out, b_out;
    a.start(a_out);
    ASSERT_EQ(deliver(b, a_out, b_out, 0), MseStatus::kMore);
    ASSERT_EQ(deliver(a, b_out, a_out, 0), MseStatus::kMore);
    ASSERT_EQ(deliver(b, a_out, b_out, 0), MseStatus::kDone) << mse_failure_name(b.failure());
    EXPECT_EQ(b.skey(), torrents[pick]);
  }
  // A torrent outside the set is refused as unknown.
  MseHandshake a = MseHandshake::outbound(EncryptionPolicy::kRequire, ih(0xee), kIa);
  MseHandshake b = MseHandshake::inbound(EncryptionPolicy::kRequire, skeys);
  std::string a_out, b_out;
  a.start(a_out);
  deliver(b, a_out, b_out, 0);
  deliver(a, b_out, a_out, 0);
  EXPECT_EQ(deliver(b, a_out, b_out, 0), MseStatus::kFailed);
  EXPECT_EQ(b.failure(), MseFailure::kUnknownInfoHash);
}

class Splits : public ::testing::TestWithParam<size_t> {};

TEST_P(Splits, PreferMeetsPreferOverRc4AndCarriesTheStream) {
  Pair p(EncryptionPolicy::kPrefer, EncryptionPolicy::kPrefer, ih(7), {ih(1), ih(7)}, kIa);
  p.run(GetParam());
  ASSERT_EQ(p.sa, MseStatus::kDone) << mse_failure_name(p.a.failure());
  ASSERT_EQ(p.sb, MseStatus::kDone) << mse_failure_name(p.b.failure());
  EXPECT_TRUE(p.a.rc4());
  EXPECT_TRUE(p.b.rc4());
  EXPECT_TRUE(p.b.encrypted());
  EXPECT_EQ(p.b.skey(), ih(7));  // the inbound side learned the torrent from SKEY
  auto ia = p.b.payload();
  EXPECT_EQ(std::string(ia.begin(), ia.end()), kIa);
  EXPECT_TRUE(p.a.payload().empty());
  // The streams continue where the handshake left them, both ways.
  Rc4Stream a_send = p.a.take_send(), a_recv = p.a.take_recv();
  Rc4Stream b_send = p.b.take_send(), b_recv = p.b.take_recv();
  std::string msg = "piece data, 1 KiB of it" + std::string(1000, 'x');
  std::string wire = msg;
  a_send.apply(reinterpret_cast<uint8_t*>(wire.data()), wire.size());
  EXPECT_NE(wire, msg);
  b_recv.apply(reinterpret_cast<uint8_t*>(wire.data()), wire.size());
  EXPECT_EQ(wire, msg);
  wire = msg;
  b_send.apply(reinterpret_cast<uint8_t*>(wire.data()), wire.size());
  a_recv.apply(reinterpret_cast<uint8_t*>(wire.data()), wire.size());
  EXPECT_EQ(wire, msg);
}

INSTANTIATE_TEST_SUITE_P(ByteSplits, Splits, ::testing::Values(0, 1, 7, 97, 600));

TEST(Mse, RequireOnEitherSideStillMeetsOverRc4) {
  for (auto [pa, pb] : {std::pair{EncryptionPolicy::kRequire, EncryptionPolicy::kPrefer},
                        std::pair{EncryptionPolicy::kPrefer, EncryptionPolicy::kRequire},
                        std::pair{EncryptionPolicy::kRequire, EncryptionPolicy::kRequire}}) {
    Pair p(pa, pb, ih(3), {ih(3)}, kIa);
    p.run(0);
    ASSERT_EQ(p.sa, MseStatus::kDone) << mse_failure_name(p.a.failure());
    ASSERT_EQ(p.sb, MseStatus::kDone) << mse_failure_name(p.b.failure());
    EXPECT_TRUE(p.a.rc4() && p.b.rc4());
  }
}

TEST(Mse, AnUnknownTorrentIsRefused) {
  Pair p(EncryptionPolicy::kPrefer, EncryptionPolicy::kPrefer, ih(9), {ih(1), ih(2)}, kIa);
  p.run(0);
  EXPECT_EQ(p.sb, MseStatus::kFailed);
  EXPECT_EQ(p.b.failure(), MseFailure::kUnknownInfoHash);
}

TEST(Mse, APlaintextHandshakePassesUnlessEncryptionIsRequired) {
  for (auto policy : {EncryptionPolicy::kPrefer, EncryptionPolicy::kOff}) {
    MseHandshake b = MseHandshake::inbound(policy, std::vector<InfoHash>{ih(1)});
    std::string out;
    EXPECT_EQ(b.on_receive(bytes(kIa), out), MseStatus::kDone);
    EXPECT_FALSE(b.encrypted());
    EXPECT_TRUE(out.empty());
    auto pl = b.payload();
    EXPECT_EQ(std::string(pl.begin(), pl.end()), kIa);
  }
  MseHandshake b = MseHandshake::inbound(EncryptionPolicy::kRequire, std::vector<InfoHash>{ih(1)});
  std::string out;
  EXPECT_EQ(b.on_receive(bytes(kIa), out), MseStatus::kFailed);
  EXPECT_EQ(b.failure(), MseFailure::kPlaintextRefused);
}

TEST(Mse, AnEncryptedPeerIsRefusedWhenEncryptionIsOff) {
  Pair p(EncryptionPolicy::kPrefer, EncryptionPolicy::kOff, ih(1), {ih(1)}, kIa);
  p.run(0);
  EXPECT_EQ(p.sb, MseStatus::kFailed);
  EXPECT_EQ(p.b.failure(), MseFailure::kEncryptedRefused);
}

TEST(Mse, NoiseNeverSynchronises) {
  std::mt19937 rng(5);
  std::string noise(2000, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  noise[0] = 0x20;  // not a plaintext handshake
  MseHandshake b = MseHandshake::inbound(EncryptionPolicy::kPrefer, std::vector<InfoHash>{ih(1)});
  std::string out;
  EXPECT_EQ(b.on_receive(bytes(noise), out), MseStatus::kFailed);
  EXPECT_EQ(b.failure(), MseFailure::kNoSync);
  // The outbound side after a valid key: B's reply never shows the VC.
  MseHandshake a = MseHandshake::outbound(EncryptionPolicy::kPrefer, ih(1), kIa);
  std::string a_out;
  a.start(a_out);
  EXPECT_GE(a_out.size(), MseHandshake::kKeySize);
  EXPECT_LE(a_out.size(), MseHandshake::kKeySize + MseHandshake::kMaxPad);
  out.clear();
  EXPECT_EQ(a.on_receive(bytes(noise), out), MseStatus::kFailed);
  EXPECT_EQ(a.failure(), MseFailure::kNoSync);
}

TEST(Mse, DegenerateKeysAreRefused) {
  for (uint8_t last : {0, 1}) {
    std::string key(MseHandshake::kKeySize, '\0');
    key.back() = static_cast<char>(last);
    key[0] = 0;
    MseHandshake a = MseHandshake::outbound(EncryptionPolicy::kPrefer, ih(1), kIa);
    std::string out;
    a.start(out);
    out.clear();
    EXPECT_EQ(a.on_receive(bytes(key), out), MseStatus::kFailed);
    EXPECT_EQ(a.failure(), MseFailure::kBadKey);
  }
}

TEST(Mse, PoliciesParseByName) {
  EXPECT_EQ(parse_encryption_policy("require"), EncryptionPolicy::kRequire);
  EXPECT_EQ(parse_encryption_policy("prefer"), EncryptionPolicy::kPrefer);
  EXPECT_EQ(parse_encryption_policy("off"), EncryptionPolicy::kOff);
  EXPECT_FALSE(parse_encryption_policy("forced"));
  EXPECT_EQ(encryption_policy_name(EncryptionPolicy::kRequire), "require");
}

}  // namespace
}  // namespace swarmdial
