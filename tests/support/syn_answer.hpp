#pragma once
// Shared by the handshake engine's unit test and fuzzer: the frame a peer
// sends back for a SYN we sent, with any flags, seq and ack. With options
// it is built as the peer's own SYN and then patched, so its options are
// those Linux answers with (MSS 1400, wscale 9, timestamps).
#include <cstdint>
#include <vector>

#include "engine/tcp/frame_layout.hpp"
#include "engine/tcp/inet_checksum.hpp"
#include "engine/tcp/packet_builder.hpp"
#include "engine/tcp/packet_parser.hpp"

namespace swarmdial::testing_support {

inline std::vector<uint8_t> answer_syn(const ParsedFrame& syn, const MacAddress& peer_mac,
                                       const MacAddress& our_mac, uint8_t flags, uint32_t seq,
                                       uint32_t ack, bool with_options = true) {
  std::vector<uint8_t> b(128);
  FlowAddress back{peer_mac, our_mac, syn.dst_ip, syn.src_ip, syn.tcp.dst_port, syn.tcp.src_port};
  if (with_options) {
    SynFields s;
    s.addr = back;
    s.seq = seq;
    s.mss = 1400;
    s.window_scale = 9;
    s.window = 65160;
    s.ts_val = 5555;
    b.resize(build_syn(b, s, ChecksumFill::kSoftware));
    uint8_t* tcp = b.data() + kEthHeader + kIpv4Header;
    for (int i = 0; i < 4; ++i) tcp[8 + i] = static_cast<uint8_t>(ack >> (24 - 8 * i));
    tcp[13] = flags;
    tcp[16] = tcp[17] = 0;
    uint16_t c = tcp_checksum(back.src_ip, back.dst_ip, {tcp, kTcpHeader + kSynOptions});
    tcp[16] = static_cast<uint8_t>(c >> 8);
    tcp[17] = static_cast<uint8_t>(c);
  } else {
    SegmentFields s;
    s.addr = back;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    b.resize(build_segment(b, s, ChecksumFill::kSoftware));
  }
  return b;
}

}  // namespace swarmdial::testing_support
