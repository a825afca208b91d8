// The userspace TCP codec: frames built by the engine parse back to the same
// fields, checksums are right and checked, and hostile frames (truncated,
// corrupted, bad option lengths) are rejected or tolerated without reading
// out of bounds (ASan runs this suite too).
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <set>
#include <vector>

#include "engine/tcp/inet_checksum.hpp"
#include "engine/tcp/isn_generator.hpp"
#include "engine/tcp/packet_builder.hpp"
#include "engine/tcp/packet_parser.hpp"
#include "engine/tcp/source_port_plan.hpp"

using namespace swarmdial;

namespace {

constexpr uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

FlowAddress sample_flow() {
  return {MacAddress{{2, 0, 0, 0, 0, 1}},
          MacAddress{{2, 0, 0, 0, 0, 2}},
          ip4(198, 18, 20, 100),
          ip4(198, 18, 20, 1),
          40000,
          6881};
}

std::vector<uint8_t> syn_frame(ChecksumFill fill = ChecksumFill::kSoftware) {
  SynFields s;
  s.addr = sample_flow();
  s.seq = 0xdeadbeef;
  s.mss = 1460;
  s.window_scale = 7;
  s.window = 64240;
  s.ts_val = 123456;
  std::vector<uint8_t> buf(128);
  buf.resize(build_syn(buf, s, fill));
  return buf;
}

}  // namespace

TEST(TcpCodec, SynCarriesLinuxOptionsAndParsesBack) {
  auto f = syn_frame();
  ASSERT_EQ(f.size(), kSynFrame);
  // Options byte for byte as Linux orders them.
  const uint8_t* o = f.data() + kEthHeader + kIpv4Header + kTcpHeader;
  std::vector<uint8_t> opts(o, o + kSynOptions);
  std::vector<uint8_t> want = {2,    4,    0x05, 0xb4, 4, 2, 8, 10, 0, 1,
                               0xe2, 0x40, 0,    0,    0, 0, 1, 3,  3, 7};
  EXPECT_EQ(opts, want);
  ParsedFrame p = parse_frame(f);
  ASSERT_EQ(p.kind, FrameKind::kTcp) << (p.error ? p.error : "");
  EXPECT_EQ(p.src_ip, ip4(198, 18, 20, 100));
  EXPECT_EQ(p.dst_ip, ip4(198, 18, 20, 1));
  EXPECT_EQ(p.tcp.src_port, 40000);
  EXPECT_EQ(p.tcp.dst_port, 6881);
  EXPECT_EQ(p.tcp.seq, 0xdeadbeefu);
  EXPECT_EQ(p.tcp.flags, tcp_flag::kSyn);
  EXPECT_EQ(p.tcp.window, 64240);
  EXPECT_EQ(p.tcp.options.mss, 1460);
  EXPECT_TRUE(p.tcp.options.sack_permitted);
  EXPECT_EQ(p.tcp.options.window_scale, 7);
  EXPECT_TRUE(p.tcp.options.timestamps);
  EXPECT_EQ(p.tcp.options.ts_val, 123456u);
  EXPECT_FALSE(p.tcp.options.malformed);
  EXPECT_EQ(p.src_mac, (MacAddress{{2, 0, 0, 0, 0, 1}}));
}

TEST(TcpCodec, OffloadLeavesPseudoHeaderSumForTheNic) {
  auto f = syn_frame(ChecksumFill::kOffload);
  EXPECT_EQ(f[kEthHeader + 10], 0);  // IP checksum left to the port
  EXPECT_EQ(f[kEthHeader + 11], 0);
  // Completing the checksum as a NIC would gives a valid segment.
  uint8_t* tcp = f.data() + kEthHeader + kIpv4Header;
  size_t len = kTcpHeader + kSynOptions;
  uint32_t sum = checksum_add(0, {tcp, len});  // includes the pseudo sum in the field
  uint16_t c = checksum_fold(sum);
  tcp[16] = static_cast<uint8_t>(c >> 8);
  tcp[17] = static_cast<uint8_t>(c);
  uint8_t* ip = f.data() + kEthHeader;
  uint16_t ic = checksum_fold(checksum_add(0, {ip, kIpv4Header}));
  ip[10] = static_cast<uint8_t>(ic >> 8);
  ip[11] = static_cast<uint8_t>(ic);
  EXPECT_EQ(parse_frame(f).kind, FrameKind::kTcp);
}

TEST(TcpCodec, PartialChecksumsOfLocalSendersAreAcceptedAndCompleted) {
  // What Linux hands a packet socket from a veth peer with TX checksum
  // offload on: the IP checksum done, the TCP field holding the
  // pseudo-header sum only (as our own offload build leaves it).
  auto f = syn_frame(ChecksumFill::kOffload);
  uint8_t* ip = f.data() + kEthHeader;
  uint16_t ic = checksum_fold(checksum_add(0, {ip, kIpv4Header}));
  ip[10] = static_cast<uint8_t>(ic >> 8);
  ip[11] = static_cast<uint8_t>(ic);
  ParsedFrame p = parse_frame(f);
  ASSERT_EQ(p.kind, FrameKind::kTcp) << (p.error ? p.error : "");
  EXPECT_TRUE(p.tcp.checksum_partial);
  EXPECT_EQ(p.tcp.seq, 0xdeadbeefu);

  // Any other wrong value is still a bad checksum.
  auto off_by_one = f;
  off_by_one[kEthHeader + kIpv4Header + 17] ^= 1;
  EXPECT_STREQ(parse_frame(off_by_one).error, "bad TCP checksum");

  // Completed before the frame goes to a kernel that verifies it.
  ASSERT_TRUE(complete_tcp_checksum(f));
  EXPECT_EQ(tcp_checksum(ip4(198, 18, 20, 100), ip4(198, 18, 20, 1),
                         {f.data() + kEthHeader + kIpv4Header, kTcpHeader + kSynOptions}),
            0);
  p = parse_frame(f);
  ASSERT_EQ(p.kind, FrameKind::kTcp);
  EXPECT_FALSE(p.tcp.checksum_partial);
  EXPECT_EQ(f, syn_frame(ChecksumFill::kSoftware));

  // Not IPv4/TCP, or too short: left alone.
  std::vector<uint8_t> arp(kEthHeader + kArpBody, 0);
  EXPECT_FALSE(complete_tcp_checksum(arp));
  std::vector<uint8_t> cut(f.begin(), f.begin() + kEthHeader + kIpv4Header + 4);
  EXPECT_FALSE(complete_tcp_checksum(cut));
}

TEST(TcpCodec, SegmentWithTimestampsAndRstRoundTrip) {
  SegmentFields s;
  s.addr = sample_flow();
  s.seq = 1000;
  s.ack = 2000;
  s.flags = tcp_flag::kAck;
  s.window = 502;
  s.timestamps = true;
  s.ts_val = 77;
  s.ts_ecr = 88;
  std::vector<uint8_t> buf(128);
  buf.resize(build_segment(buf, s, ChecksumFill::kSoftware));
  ASSERT_EQ(buf.size(), kMaxSegmentFrame);
  ParsedFrame p = parse_frame(buf);
  ASSERT_EQ(p.kind, FrameKind::kTcp);
  EXPECT_EQ(p.tcp.ack, 2000u);
  EXPECT_EQ(p.tcp.options.ts_val, 77u);
  EXPECT_EQ(p.tcp.options.ts_ecr, 88u);
  EXPECT_EQ(p.tcp.payload_len, 0);

  s.timestamps = false;
  s.flags = tcp_flag::kRst;
  buf.assign(128, 0);
  size_t n = build_segment(buf, s, ChecksumFill::kSoftware);
  EXPECT_EQ(n, kMinFrame);  // padded to the Ethernet minimum
  buf.resize(n);
  p = parse_frame(buf);
  ASSERT_EQ(p.kind, FrameKind::kTcp);
  EXPECT_EQ(p.tcp.flags, tcp_flag::kRst);
  EXPECT_EQ(p.tcp.payload_len, 0);  // padding is not payload
}

TEST(TcpCodec, EveryTruncationIsRejectedWithoutOverread) {
  auto f = syn_frame();
  for (size_t n = 0; n < f.size(); ++n) {
    std::vector<uint8_t> cut(f.begin(), f.begin() + static_cast<long>(n));
    ParsedFrame p = parse_frame(cut);
    EXPECT_EQ(p.kind, FrameKind::kInvalid) << n;
    EXPECT_NE(p.error, nullptr);
  }
}

TEST(TcpCodec, CorruptedBytesFailTheChecksums) {
  auto f = syn_frame();
  auto ip_bad = f;
  ip_bad[kEthHeader + 8] ^= 1;  // TTL
  EXPECT_STREQ(parse_frame(ip_bad).error, "bad IPv4 checksum");
  auto tcp_bad = f;
  tcp_bad[kEthHeader + kIpv4Header + 5] ^= 0x40;  // a sequence number bit
  EXPECT_STREQ(parse_frame(tcp_bad).error, "bad TCP checksum");
  // A port that verified checksums itself may skip the L4 check.
  EXPECT_EQ(parse_frame(tcp_bad, L4Checksum::kTrusted).kind, FrameKind::kTcp);
}

TEST(TcpCodec, HeaderLengthFieldsAreChecked) {
  auto f = syn_frame();
  auto bad_offset = f;
  bad_offset[kEthHeader + kIpv4Header + 12] = 0xf0;  // 60-byte header in a 40-byte segment
  EXPECT_STREQ(parse_frame(bad_offset, L4Checksum::kTrusted).error, "bad TCP data offset");
  auto small_offset = f;
  small_offset[kEthHeader + kIpv4Header + 12] = 0x40;
  EXPECT_STREQ(parse_frame(small_offset, L4Checksum::kTrusted).error, "bad TCP data offset");
  auto bad_ihl = f;
  bad_ihl[kEthHeader] = 0x44;
  EXPECT_STREQ(parse_frame(bad_ihl).error, "bad IPv4 header length");
  auto long_total = f;
  long_total[kEthHeader + 2] = 0x10;  // 4 KiB datagram in a 74-byte frame
  EXPECT_STREQ(parse_frame(long_total).error, "bad IPv4 total length");
  auto v6 = f;
  v6[kEthHeader] = 0x65;
  EXPECT_STREQ(parse_frame(v6).error, "not IPv4");
}

TEST(TcpCodec, BadOptionsAreToleratedAndFlagged) {
  // MSS with a bad length, then a valid window scale the parser must not reach.
  std::vector<uint8_t> a = {2, 3, 5, 3, 3, 7};
  TcpOptions o = parse_tcp_options(a);
  EXPECT_TRUE(o.malformed);
  EXPECT_EQ(o.mss, 0);
  // An option whose length runs past the end.
  std::vector<uint8_t> b = {1, 1, 8, 10, 0, 0};
  o = parse_tcp_options(b);
  EXPECT_TRUE(o.malformed);
  EXPECT_FALSE(o.timestamps);
  // Length 0 and 1 would loop forever if trusted.
  std::vector<uint8_t> c = {30, 0, 2, 4, 1, 0};
  EXPECT_TRUE(parse_tcp_options(c).malformed);
  std::vector<uint8_t> d = {30, 1};
  EXPECT_TRUE(parse_tcp_options(d).malformed);
  // Options that came before the damage survive; unknown ones are skipped.
  std::vector<uint8_t> e = {2, 4, 5, 0xb4, 30, 4, 9, 9, 3, 3, 20, 8, 2};
  o = parse_tcp_options(e);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_EQ(o.window_scale, 14);  // clamped, RFC 7323
  EXPECT_TRUE(o.malformed);
  // End-of-list stops parsing cleanly.
  std::vector<uint8_t> f = {4, 2, 0, 2, 4, 5, 0xb4};
  o = parse_tcp_options(f);
  EXPECT_TRUE(o.sack_permitted);
  EXPECT_EQ(o.mss, 0);
  EXPECT_FALSE(o.malformed);
}

TEST(TcpCodec, IcmpUnreachableQuotesOurSegment) {
  auto syn = syn_frame();
  std::vector<uint8_t> icmp = {3, 1, 0, 0, 0, 0, 0, 0};  // host unreachable
  icmp.insert(icmp.end(), syn.begin() + kEthHeader, syn.begin() + kEthHeader + kIpv4Header + 8);
  uint16_t c = checksum_fold(checksum_add(0, icmp));
  icmp[2] = static_cast<uint8_t>(c >> 8);
  icmp[3] = static_cast<uint8_t>(c);
  std::vector<uint8_t> frame(syn.begin(), syn.begin() + kEthHeader + kIpv4Header);
  frame[kEthHeader + 9] = kProtoIcmp;
  uint16_t total = static_cast<uint16_t>(kIpv4Header + icmp.size());
  frame[kEthHeader + 2] = static_cast<uint8_t>(total >> 8);
  frame[kEthHeader + 3] = static_cast<uint8_t>(total);
  frame[kEthHeader + 10] = frame[kEthHeader + 11] = 0;
  uint16_t ic = checksum_fold(checksum_add(0, {frame.data() + kEthHeader, kIpv4Header}));
  frame[kEthHeader + 10] = static_cast<uint8_t>(ic >> 8);
  frame[kEthHeader + 11] = static_cast<uint8_t>(ic);
  frame.insert(frame.end(), icmp.begin(), icmp.end());
  ParsedFrame p = parse_frame(frame);
  ASSERT_EQ(p.kind, FrameKind::kIcmpUnreachable) << (p.error ? p.error : "");
  EXPECT_EQ(p.quoted.src_port, 40000);
  EXPECT_EQ(p.quoted.dst_port, 6881);
  EXPECT_EQ(p.quoted.seq, 0xdeadbeefu);
  // Fragmentation-needed is not an outcome.
  auto frag = frame;
  frag[kEthHeader + kIpv4Header + 1] = 4;
  frag[kEthHeader + kIpv4Header + 2] = 0;
  frag[kEthHeader + kIpv4Header + 3] = 0;
  uint16_t fc =
      checksum_fold(checksum_add(0, {frag.data() + kEthHeader + kIpv4Header, icmp.size()}));
  frag[kEthHeader + kIpv4Header + 2] = static_cast<uint8_t>(fc >> 8);
  frag[kEthHeader + kIpv4Header + 3] = static_cast<uint8_t>(fc);
  EXPECT_EQ(parse_frame(frag).kind, FrameKind::kIgnored);
  // A quote cut short is invalid.
  auto cut = frame;
  cut.resize(cut.size() - 4);
  cut[kEthHeader + 3] = static_cast<uint8_t>(total - 4);
  EXPECT_EQ(parse_frame(cut, L4Checksum::kTrusted).kind, FrameKind::kInvalid);
}

TEST(TcpCodec, ArpRequestAndReply) {
  std::vector<uint8_t> buf(64);
  MacAddress me{{2, 0, 0, 0, 0, 1}}, peer{{2, 0, 0, 0, 0, 2}};
  size_t n =
      build_arp(buf, ArpOp::kRequest, me, ip4(198, 18, 20, 100), MacAddress{}, ip4(198, 18, 20, 1));
  ASSERT_EQ(n, kMinFrame);
  ParsedFrame p = parse_frame({buf.data(), n});
  ASSERT_EQ(p.kind, FrameKind::kArp);
  EXPECT_EQ(p.dst_mac, kBroadcastMac);
  EXPECT_EQ(p.arp.op, 1);
  EXPECT_EQ(p.arp.sender_ip, ip4(198, 18, 20, 100));
  EXPECT_EQ(p.arp.target_ip, ip4(198, 18, 20, 1));
  n = build_arp(buf, ArpOp::kReply, peer, ip4(198, 18, 20, 1), me, ip4(198, 18, 20, 100));
  p = parse_frame({buf.data(), n});
  EXPECT_EQ(p.dst_mac, me);
  EXPECT_EQ(p.arp.op, 2);
  EXPECT_EQ(p.arp.sender_mac, peer);
  EXPECT_EQ(parse_frame({buf.data(), 30}).kind, FrameKind::kInvalid);
}

TEST(TcpCodec, SipHashMatchesOpenSsl) {
  std::array<uint64_t, 2> key{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  uint64_t w0 = 0x1122334455667788ull, w1 = 0x99aabbccddeeff00ull;
  uint8_t k[16], msg[16];
  for (int i = 0; i < 8; ++i) {
    k[i] = static_cast<uint8_t>(key[0] >> (8 * i));
    k[8 + i] = static_cast<uint8_t>(key[1] >> (8 * i));
    msg[i] = static_cast<uint8_t>(w0 >> (8 * i));
    msg[8 + i] = static_cast<uint8_t>(w1 >> (8 * i));
  }
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
  ASSERT_NE(mac, nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  size_t size = 8;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                         OSSL_PARAM_construct_end()};
  ASSERT_EQ(EVP_MAC_init(ctx, k, sizeof k, params), 1);
  ASSERT_EQ(EVP_MAC_update(ctx, msg, sizeof msg), 1);
  uint8_t out[8];
  size_t outl = 0;
  ASSERT_EQ(EVP_MAC_final(ctx, out, &outl, sizeof out), 1);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  uint64_t want = 0;
  for (int i = 7; i >= 0; --i) want = want << 8 | out[i];
  EXPECT_EQ(siphash24_2words(key, w0, w1), want);
}

TEST(TcpCodec, IsnsDependOnTupleKeyAndClock) {
  IsnGenerator a({1, 2}), b({1, 3});
  uint32_t x = a.isn(1, 2, 3, 4, 0);
  EXPECT_NE(x, a.isn(1, 2, 3, 5, 0));
  EXPECT_NE(x, b.isn(1, 2, 3, 4, 0));
  EXPECT_EQ(a.isn(1, 2, 3, 4, 4000) - x, 1u);  // M ticks every 4 us
}

TEST(SourcePortPlan, SlotsMapToDisjointEndpointsAndBack) {
  std::string why;
  auto plan = SourcePortPlan::make(ip4(198, 18, 20, 100), 4, 3, 1000, 20000, why);
  ASSERT_TRUE(plan) << why;
  std::set<uint64_t> seen;
  for (uint32_t shard = 0; shard < 3; ++shard) {
    for (uint32_t slot = 0; slot < 1000; ++slot) {
      LocalEndpoint l = plan->local(shard, slot);
      EXPECT_TRUE(seen.insert(uint64_t{l.ip} << 16 | l.port).second);
      auto back = plan->owner(l.ip, l.port);
      ASSERT_TRUE(back);
      EXPECT_EQ(back->shard, shard);
      EXPECT_EQ(back->slot, slot);
    }
  }
  EXPECT_FALSE(plan->owner(ip4(198, 18, 20, 99), 20000));
  EXPECT_FALSE(plan->owner(ip4(198, 18, 20, 100), 19999));
  EXPECT_FALSE(plan->owner(ip4(198, 18, 20, 100), static_cast<uint16_t>(plan->port_end())));
  EXPECT_FALSE(SourcePortPlan::make(1, 1, 2, 40000, 1024, why));
  EXPECT_NE(why.find("--source"), std::string::npos);
}
