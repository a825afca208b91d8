// The DPDK backend's handshake engine driven by a script the fuzzer writes:
// attempts started, ARP replies, SYN-ACKs / RSTs / ACKs answering (or
// almost answering) a SYN it sent, ICMP errors quoting one, raw frames, time
// passing, and a transmit side that runs out of buffers. Checked on every
// step: each frame the engine emits parses back as a valid frame, a result
// only ever comes for a slot that was dialing, the table never holds more
// than its capacity, and once every deadline is past nothing is left open.
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "engine/tcp/handshake_engine.hpp"
#include "engine/tcp/inet_checksum.hpp"
#include "engine/tcp/packet_builder.hpp"
#include "tests/support/syn_answer.hpp"

using namespace swarmdial;

namespace {

constexpr int64_t kMs = 1'000'000;
constexpr uint32_t kCapacity = 8;
constexpr uint32_t kUs = (198u << 24) | (18u << 16) | (20u << 8) | 100u;
constexpr uint32_t kPeerBase = (198u << 24) | (18u << 16) | (20u << 8) | 1u;
const MacAddress kOurMac{{2, 0, 0, 0, 0, 1}};
const MacAddress kPeerMac{{2, 0, 0, 0, 0, 2}};

[[noreturn]] void fail(const char* why) {
  fprintf(stderr, "fuzz_handshake_engine: %s\n", why);
  abort();
}

// Reads the script; past its end every read is 0, so any input is a script.
struct Script {
  const uint8_t* p;
  size_t left;
  bool done() const { return left == 0; }
  uint8_t u8() {
    if (!left) return 0;
    --left;
    return *p++;
  }
  uint32_t u32() {
    return uint32_t(u8()) << 24 | uint32_t(u8()) << 16 | uint32_t(u8()) << 8 | u8();
  }
};

struct Tx : FrameSink {
  std::array<uint8_t, 256> buf{};
  bool starved = false;
  // The last SYN sent per slot, found by its source port.
  std::array<ParsedFrame, kCapacity> last_syn{};
  std::array<bool, kCapacity> has_syn{};
  const SourcePortPlan* ports = nullptr;
  std::span<uint8_t> next_buffer() override {
    if (starved) return {};
    return buf;
  }
  void commit(size_t n) override {
    if (n == 0 || n > buf.size()) fail("commit of an impossible length");
    ParsedFrame f = parse_frame({buf.data(), n}, L4Checksum::kVerify);
    if (f.kind == FrameKind::kInvalid) fail(f.error ? f.error : "emitted frame does not parse");
    if (f.kind == FrameKind::kTcp && (f.tcp.flags & tcp_flag::kSyn)) {
      for (uint32_t s = 0; s < kCapacity; ++s) {
        if (ports->local(0, s).port == f.tcp.src_port) {
          last_syn[s] = f;
          has_syn[s] = true;
        }
      }
    }
  }
};

struct Results : ResultSink {
  std::array<bool, kCapacity>* busy = nullptr;
  void on_result(const HandshakeResult& r) override {
    if (r.slot >= kCapacity || !(*busy)[r.slot]) fail("result for a slot that was not dialing");
    (*busy)[r.slot] = false;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Script in{data, size};
  HandshakeConfig c;
  c.capacity = kCapacity;
  std::string why;
  auto ports = SourcePortPlan::make(kUs, 1, 1, kCapacity, 40000, why);
  if (!ports) fail("source port plan");
  c.ports = *ports;
  c.our_mac = kOurMac;
  c.timeout_ns = 1000 * kMs;
  c.isn_key = {11, 22};
  uint8_t mode = in.u8();
  c.keep_established = mode & 1;
  if (mode & 2) c.gateway = kPeerBase + 9;
  HandshakeEngine engine(c);
  Tx tx;
  tx.ports = &c.ports;
  std::array<bool, kCapacity> busy{};
  Results results;
  results.busy = &busy;
  int64_t now = 0;

  for (int step = 0; step < 512 && !in.done(); ++step) {
    uint8_t op = in.u8();
    switch (op % 8) {
      case 0: {  // start an attempt in a free slot
        uint32_t slot = in.u8() % kCapacity;
        uint32_t dst = kPeerBase + in.u8() % 4;
        uint16_t port = static_cast<uint16_t>(6881 + in.u8() % 3);
        if (busy[slot]) break;
        busy[slot] = true;
        tx.has_syn[slot] = false;
        engine.start(slot, dst, port, now, tx, results);
        break;
      }
      case 1: {  // an ARP reply from one of the peers (or the gateway)
        std::vector<uint8_t> b(64);
        uint8_t who = in.u8();
        uint32_t from = (who & 8) ? kPeerBase + 9 : kPeerBase + who % 4;
        b.resize(build_arp(b, (who & 16) ? ArpOp::kRequest : ArpOp::kReply, kPeerMac, from,
                           (who & 16) ? MacAddress{} : kOurMac, kUs));
        engine.on_frame(parse_frame(b), now, tx, results);
        break;
      }
      case 2:
      case 3: {  // a TCP segment answering a SYN we sent, exactly or almost
        uint32_t slot = in.u8() % kCapacity;
        if (!tx.has_syn[slot]) break;
        const ParsedFrame& syn = tx.last_syn[slot];
        uint8_t flags = in.u8();
        uint8_t how = in.u8();
        uint32_t ack = syn.tcp.seq + 1;
        if (how & 1) ack += in.u32();  // wrong ack (or a replay of an old flow's)
        ParsedFrame copy = syn;
        if (how & 2) copy.tcp.src_port ^= in.u8();  // another port of ours
        if (how & 4) copy.dst_ip ^= in.u8();        // another peer
        auto b = testing_support::answer_syn(copy, kPeerMac, kOurMac,
                                             op % 8 == 2 ? tcp_flag::kSyn | tcp_flag::kAck : flags,
                                             in.u32(), ack, how & 8);
        engine.on_frame(parse_frame(b), now, tx, results);
        break;
      }
      case 4: {  // an ICMP error quoting our SYN, or not quite
        uint32_t slot = in.u8() % kCapacity;
        if (!tx.has_syn[slot]) break;
        const ParsedFrame& syn = tx.last_syn[slot];
        ParsedFrame icmp;
        icmp.kind = FrameKind::kIcmpUnreachable;
        icmp.icmp_type = 3;
        icmp.icmp_code = in.u8() % 16;
        icmp.quoted = {syn.src_ip, syn.dst_ip, syn.tcp.src_port, syn.tcp.dst_port, syn.tcp.seq};
        uint8_t how = in.u8();
        if (how & 1) icmp.quoted.seq += in.u32();
        if (how & 2) icmp.quoted.dst_port ^= in.u8();
        engine.on_frame(icmp, now, tx, results);
        break;
      }
      case 5: {  // a raw frame, whatever it holds
        size_t n = in.u8();
        std::vector<uint8_t> b;
        for (size_t i = 0; i < n && !in.done(); ++i) b.push_back(in.u8());
        ParsedFrame f = parse_frame(b);
        if (f.kind != FrameKind::kInvalid) engine.on_frame(f, now, tx, results);
        break;
      }
      case 6:  // time passes
        now += int64_t(in.u8()) * 20 * kMs;
        engine.on_timers(now, tx, results);
        break;
      case 7:  // the transmit side runs out of buffers, or recovers
        tx.starved = in.u8() & 1;
        break;
    }
    uint32_t open = 0;
    for (bool b : busy) open += b;
    if (engine.in_flight() > kCapacity) fail("more flows open than the capacity");
    if (engine.in_flight() != open) fail("engine and script disagree on the open flows");
  }
  // Every deadline passes: nothing may stay open, whatever happened.
  tx.starved = false;
  for (int i = 0; i < 40 && engine.in_flight() > 0; ++i) {
    now += 1000 * kMs;
    engine.on_timers(now, tx, results);
  }
  if (engine.in_flight() != 0) fail("a flow outlived every deadline");
  for (bool b : busy)
    if (b) fail("a slot never got its result");
  return 0;
}
