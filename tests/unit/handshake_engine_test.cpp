// The sans-I/O handshake engine, driven the way the DPDK glue drives it but
// with frames captured in vectors: ARP, SYN, SYN-ACK validation, RST, ICMP,
// retransmission timers, deadlines and the strict table capacity.
#include "engine/tcp/handshake_engine.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "engine/tcp/inet_checksum.hpp"
#include "engine/tcp/packet_builder.hpp"
#include "tests/support/syn_answer.hpp"

using namespace swarmdial;

namespace {

constexpr int64_t kMs = 1'000'000;
constexpr uint32_t kUs = (198u << 24) | (18u << 16) | (20u << 8) | 100u;
constexpr uint32_t kPeer = (198u << 24) | (18u << 16) | (20u << 8) | 1u;
const MacAddress kOurMac{{2, 0, 0, 0, 0, 1}};
const MacAddress kPeerMac{{2, 0, 0, 0, 0, 2}};

struct Capture : FrameSink {
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint8_t> buf = std::vector<uint8_t>(256);
  bool starved = false;
  std::span<uint8_t> next_buffer() override {
    if (starved) return {};
    return buf;
  }
  void commit(size_t n) override {
    frames.emplace_back(buf.begin(), buf.begin() + static_cast<long>(n));
  }
  ParsedFrame parsed(size_t i) const { return parse_frame(frames.at(i)); }
};

struct Results : ResultSink {
  std::vector<HandshakeResult> got;
  void on_result(const HandshakeResult& r) override { got.push_back(r); }
};

struct Rig {
  HandshakeEngine engine;
  Capture tx;
  Results results;
  explicit Rig(uint32_t capacity = 4, int64_t timeout = 1000 * kMs, bool keep = false)
      : engine(config(capacity, timeout, keep)) {}

  static HandshakeConfig config(uint32_t capacity, int64_t timeout, bool keep) {
    HandshakeConfig c;
    c.capacity = capacity;
    std::string why;
    c.ports = *SourcePortPlan::make(kUs, 1, 1, capacity, 40000, why);
    c.our_mac = kOurMac;
    c.timeout_ns = timeout;
    c.isn_key = {11, 22};
    c.keep_established = keep;
    return c;
  }
  void feed(const std::vector<uint8_t>& frame, int64_t now) {
    engine.on_frame(parse_frame(frame), now, tx, results);
  }
  void arp_reply(int64_t now, uint32_t from = kPeer) {
    std::vector<uint8_t> b(64);
    b.resize(build_arp(b, ArpOp::kReply, kPeerMac, from, kOurMac, kUs));
    feed(b, now);
  }
  // Starts slot 0 to the peer and answers ARP; returns the SYN.
  ParsedFrame start_resolved(uint32_t slot = 0, uint16_t port = 6881, int64_t now = 0) {
    engine.start(slot, kPeer, port, now, tx, results);
    if (tx.parsed(tx.frames.size() - 1).kind == FrameKind::kArp) arp_reply(now);
    return tx.parsed(tx.frames.size() - 1);
  }
};

std::vector<uint8_t> reply(const ParsedFrame& syn, uint8_t flags, uint32_t seq, uint32_t ack,
                           bool with_options = true) {
  return testing_support::answer_syn(syn, kPeerMac, kOurMac, flags, seq, ack, with_options);
}

}  // namespace

TEST(HandshakeEngine, ResolvesNextHopThenSendsSyn) {
  Rig rig;
  rig.engine.start(0, kPeer, 6881, 0, rig.tx, rig.results);
  ASSERT_EQ(rig.tx.frames.size(), 1u);
  ParsedFrame arp = rig.tx.parsed(0);
  ASSERT_EQ(arp.kind, FrameKind::kArp);
  EXPECT_EQ(arp.arp.op, 1);
  EXPECT_EQ(arp.arp.target_ip, kPeer);
  // A second attempt to the same neighbour waits on the same request.
  rig.engine.start(1, kPeer, 6882, 0, rig.tx, rig.results);
  EXPECT_EQ(rig.tx.frames.size(), 1u);
  rig.arp_reply(5 * kMs);
  ASSERT_EQ(rig.tx.frames.size(), 3u);
  for (size_t i = 1; i < 3; ++i) {
    ParsedFrame syn = rig.tx.parsed(i);
    ASSERT_EQ(syn.kind, FrameKind::kTcp);
    EXPECT_EQ(syn.dst_mac, kPeerMac);
    EXPECT_EQ(syn.tcp.flags, tcp_flag::kSyn);
    EXPECT_EQ(syn.src_ip, kUs);
  }
  // The cache answers the next one at once.
  rig.engine.start(2, kPeer, 6883, 6 * kMs, rig.tx, rig.results);
  EXPECT_EQ(rig.tx.parsed(3).tcp.flags, tcp_flag::kSyn);
  EXPECT_EQ(rig.engine.in_flight(), 3u);
}

TEST(HandshakeEngine, ValidSynAckIsAcknowledgedAndReported) {
  Rig rig(4, 1000 * kMs, /*keep=*/true);
  ParsedFrame syn = rig.start_resolved();
  size_t before = rig.tx.frames.size();
  rig.feed(reply(syn, tcp_flag::kSyn | tcp_flag::kAck, 9000, syn.tcp.seq + 1), 2 * kMs);
  ASSERT_EQ(rig.tx.frames.size(), before + 1);  // the ACK only: the flow is kept
  ParsedFrame ack = rig.tx.parsed(before);
  EXPECT_EQ(ack.tcp.flags, tcp_flag::kAck);
  EXPECT_EQ(ack.tcp.seq, syn.tcp.seq + 1);
  EXPECT_EQ(ack.tcp.ack, 9001u);
  EXPECT_TRUE(ack.tcp.options.timestamps);
  EXPECT_EQ(ack.tcp.options.ts_ecr, 5555u);
  ASSERT_EQ(rig.results.got.size(), 1u);
  const HandshakeResult& r = rig.results.got[0];
  EXPECT_EQ(r.err, 0);
  EXPECT_EQ(r.rtt_ns, 2 * kMs);
  EXPECT_EQ(r.flow.iss, syn.tcp.seq);
  EXPECT_EQ(r.flow.irs, 9000u);
  EXPECT_EQ(r.flow.peer_mss, 1400);
  EXPECT_EQ(r.flow.peer_window_scale, 9);
  EXPECT_EQ(r.flow.our_window_scale, 7);
  EXPECT_TRUE(r.flow.sack_permitted);
  EXPECT_EQ(r.flow.peer_window, 65160);
  EXPECT_EQ(r.flow.our_window, uint32_t{ack.tcp.window} << 7);
  EXPECT_EQ(r.flow.local.port, syn.tcp.src_port);
  EXPECT_EQ(rig.engine.in_flight(), 0u);
}

TEST(HandshakeEngine, DialOnlyResetsAfterTheAck) {
  Rig rig;
  ParsedFrame syn = rig.start_resolved();
  size_t before = rig.tx.frames.size();
  rig.feed(reply(syn, tcp_flag::kSyn | tcp_flag::kAck, 1, syn.tcp.seq + 1), kMs);
  ASSERT_EQ(rig.tx.frames.size(), before + 2);
  EXPECT_EQ(rig.tx.parsed(before + 1).tcp.flags, tcp_flag::kRst | tcp_flag::kAck);
  EXPECT_EQ(rig.tx.parsed(before + 1).tcp.seq, syn.tcp.seq + 1);
  EXPECT_EQ(rig.results.got.at(0).err, 0);
}

TEST(HandshakeEngine, WrongAckIsResetAndNotCounted) {
  Rig rig;
  ParsedFrame syn = rig.start_resolved();
  size_t before = rig.tx.frames.size();
  rig.feed(reply(syn, tcp_flag::kSyn | tcp_flag::kAck, 1, syn.tcp.seq + 7), kMs);
  ASSERT_EQ(rig.tx.frames.size(), before + 1);
  ParsedFrame rst = rig.tx.parsed(before);
  EXPECT_EQ(rst.tcp.flags, tcp_flag::kRst);
  EXPECT_EQ(rst.tcp.seq, syn.tcp.seq + 7);  // RFC 793: seq = the bad ack
  EXPECT_TRUE(rig.results.got.empty());
  EXPECT_EQ(rig.engine.counters().bad_ack, 1u);
  // A RST that does not ack our SYN is ignored; the flow stays open.
  rig.feed(reply(syn, tcp_flag::kRst | tcp_flag::kAck, 0, syn.tcp.seq + 2, false), kMs);
  rig.feed(reply(syn, tcp_flag::kRst, 0, 0, false), kMs);
  EXPECT_TRUE(rig.results.got.empty());
  EXPECT_EQ(rig.engine.counters().ignored_resets, 2u);
  // From another port of the same peer: stray, reset.
  auto other = reply(syn, tcp_flag::kSyn | tcp_flag::kAck, 1, syn.tcp.seq + 1);
  other[kEthHeader + kIpv4Header + 1] ^= 1;  // source port
  other[kEthHeader + kIpv4Header + 16] = other[kEthHeader + kIpv4Header + 17] = 0;
  ParsedFrame op = parse_frame(other, L4Checksum::kTrusted);
  rig.engine.on_frame(op, kMs, rig.tx, rig.results);
  EXPECT_EQ(rig.engine.counters().stray, 1u);
  EXPECT_TRUE(rig.results.got.empty());
  // The right one still completes.
  rig.feed(reply(syn, tcp_flag::kSyn | tcp_flag::kAck, 1, syn.tcp.seq + 1), 3 * kMs);
  ASSERT_EQ(rig.results.got.size(), 1u);
  EXPECT_EQ(rig.results.got[0].err, 0);
}

TEST(HandshakeEngine, ResetMeansRefused) {
  Rig rig;
  ParsedFrame syn = rig.start_resolved();
  rig.feed(reply(syn, tcp_flag::kRst | tcp_flag::kAck, 0, syn.tcp.seq + 1, false), 300'000);
  ASSERT_EQ(rig.results.got.size(), 1u);
  EXPECT_EQ(rig.results.got[0].err, ECONNREFUSED);
  EXPECT_EQ(rig.results.got[0].rtt_ns, 300'000);
  // A late copy hits a free slot: a reset is never answered.
  size_t before = rig.tx.frames.size();
  rig.feed(reply(syn, tcp_flag::kRst | tcp_flag::kAck, 0, syn.tcp.seq + 1, false), kMs);
  EXPECT_EQ(rig.tx.frames.size(), before);
  EXPECT_EQ(rig.results.got.size(), 1u);
}

TEST(HandshakeEngine, RetransmitsOnScheduleThenTimesOut) {
  Rig rig(4, 3500 * kMs);
  ParsedFrame syn = rig.start_resolved();
  size_t syns = rig.engine.counters().syns;
  rig.engine.on_timers(999 * kMs, rig.tx, rig.results);
  EXPECT_EQ(rig.engine.counters().syns, syns);
  EXPECT_EQ(rig.engine.next_timer_ns(), 1000 * kMs);
  rig.engine.on_timers(1000 * kMs, rig.tx, rig.results);
  EXPECT_EQ(rig.engine.counters().syns, syns + 1);
  ParsedFrame again = rig.tx.parsed(rig.tx.frames.size() - 1);
  EXPECT_EQ(again.tcp.seq, syn.tcp.seq);  // same ISN: a retransmission
  rig.engine.on_timers(3000 * kMs, rig.tx, rig.results);
  EXPECT_EQ(rig.engine.counters().syn_retransmits, 2u);
  EXPECT_TRUE(rig.results.got.empty());
  rig.engine.on_timers(3500 * kMs, rig.tx, rig.results);
  ASSERT_EQ(rig.results.got.size(), 1u);
  EXPECT_EQ(rig.results.got[0].err, ETIMEDOUT);
  EXPECT_EQ(rig.engine.next_timer_ns(), INT64_MAX);
}

TEST(HandshakeEngine, SilentNeighbourIsUnreachable) {
  Rig rig(4, 10'000 * kMs);
  rig.engine.start(0, kPeer, 6881, 0, rig.tx, rig.results);
  for (int64_t t = 0; t <= 4000 * kMs && rig.results.got.empty(); t += 50 * kMs)
    rig.engine.on_timers(t, rig.tx, rig.results);
  ASSERT_EQ(rig.results.got.size(), 1u);
  EXPECT_EQ(rig.results.got[0].err, EHOSTUNREACH);
  EXPECT_EQ(rig.engine.counters().arp_requests, ArpCache::kMaxRequests);
  EXPECT_EQ(rig.engine.in_flight(), 0u);
}

TEST(HandshakeEngine, IcmpMustQuoteTheSynWeSent) {
  Rig rig;
  ParsedFrame syn = rig.start_resolved();
  ParsedFrame icmp;
  icmp.kind = FrameKind::kIcmpUnreachable;
  icmp.quoted = {kUs, kPeer, syn.tcp.src_port, syn.tcp.dst_port, syn.tcp.seq + 1};
  rig.engine.on_frame(icmp, kMs, rig.tx, rig.results);
  EXPECT_TRUE(rig.results.got.empty());
  EXPECT_EQ(rig.engine.counters().ignored_icmp, 1u);
  icmp.quoted.seq = syn.tcp.seq;
  rig.engine.on_frame(icmp, kMs, rig.tx, rig.results);
  ASSERT_EQ(rig.results.got.size(), 1u);
  EXPECT_EQ(rig.results.got[0].err, EHOSTUNREACH);
}

TEST(HandshakeEngine, AnswersArpForItsAddressesOnly) {
  Rig rig;
  std::vector<uint8_t> b(64);
  b.resize(build_arp(b, ArpOp::kRequest, kPeerMac, kPeer, MacAddress{}, kUs));
  rig.feed(b, 0);
  ASSERT_EQ(rig.tx.frames.size(), 1u);
  ParsedFrame r = rig.tx.parsed(0);
  EXPECT_EQ(r.arp.op, 2);
  EXPECT_EQ(r.arp.sender_ip, kUs);
  EXPECT_EQ(r.arp.sender_mac, kOurMac);
  EXPECT_EQ(r.dst_mac, kPeerMac);
  b.assign(64, 0);
  b.resize(build_arp(b, ArpOp::kRequest, kPeerMac, kPeer, MacAddress{}, kUs + 50));
  rig.feed(b, 0);
  EXPECT_EQ(rig.tx.frames.size(), 1u);
  // The request taught us the peer's MAC: no ARP needed to dial it.
  rig.engine.start(0, kPeer, 6881, 0, rig.tx, rig.results);
  EXPECT_EQ(rig.tx.parsed(1).tcp.flags, tcp_flag::kSyn);
}

TEST(HandshakeEngine, NoBufferIsCountedAndRetransmissionRecovers) {
  Rig rig(4, 2500 * kMs);
  rig.arp_reply(0);  // unsolicited: not cached
  rig.start_resolved();
  rig.tx.starved = true;
  rig.engine.start(1, kPeer, 6882, 0, rig.tx, rig.results);
  EXPECT_EQ(rig.engine.counters().tx_no_buffer, 1u);
  rig.tx.starved = false;
  rig.engine.on_timers(1000 * kMs, rig.tx, rig.results);
  EXPECT_EQ(rig.engine.counters().syn_retransmits, 2u);
  EXPECT_EQ(rig.engine.in_flight(), 2u);
}

TEST(HandshakeEngine, HighWaterNeverExceedsCapacity) {
  constexpr uint32_t kCap = 64;
  Rig rig(kCap, 50 * kMs);
  rig.start_resolved(0);
  std::vector<bool> busy(kCap, false);
  busy[0] = true;
  uint64_t started = 1;
  // Fill, let timers free slots, refill: in_flight tracks exactly.
  for (int64_t t = 0; t < 1000 * kMs; t += 5 * kMs) {
    for (uint32_t s = 0; s < kCap; ++s)
      if (!busy[s]) {
        rig.engine.start(s, kPeer, static_cast<uint16_t>(7000 + s), t, rig.tx, rig.results);
        busy[s] = true;
        ++started;
      }
    size_t before = rig.results.got.size();
    rig.engine.on_timers(t, rig.tx, rig.results);
    for (size_t i = before; i < rig.results.got.size(); ++i) busy[rig.results.got[i].slot] = false;
    ASSERT_LE(rig.engine.in_flight(), kCap);
  }
  EXPECT_EQ(rig.engine.counters().high_water, kCap);
  EXPECT_EQ(rig.results.got.size() + rig.engine.in_flight(), started);
}
