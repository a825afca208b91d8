#include "packet_builder.hpp"

#include <cstring>

#include "byte_order.hpp"
#include "inet_checksum.hpp"

namespace swarmdial {
namespace {

using wire::store16;
using wire::store32;

uint8_t* put_ethernet(uint8_t* p, const MacAddress& dst, const MacAddress& src, uint16_t type) {
  std::memcpy(p, dst.bytes.data(), 6);
  std::memcpy(p + 6, src.bytes.data(), 6);
  store16(p + 12, type);
  return p + kEthHeader;
}

uint8_t* put_ipv4(uint8_t* p, const FlowAddress& a, uint16_t total_len, uint16_t ip_id,
                  ChecksumFill fill) {
  p[0] = 0x45;  // version 4, 20-byte header
  p[1] = 0;
  store16(p + 2, total_len);
  store16(p + 4, ip_id);
  store16(p + 6, 0x4000);  // don't fragment, as Linux sets for TCP
  p[8] = 64;
  p[9] = kProtoTcp;
  store16(p + 10, 0);
  store32(p + 12, a.src_ip);
  store32(p + 16, a.dst_ip);
  if (fill == ChecksumFill::kSoftware)
    store16(p + 10, checksum_fold(checksum_add(0, {p, kIpv4Header})));
  return p + kIpv4Header;
}

void put_tcp_checksum(uint8_t* tcp, size_t len, const FlowAddress& a, ChecksumFill fill) {
  store16(tcp + 16, 0);
  if (fill == ChecksumFill::kSoftware) {
    store16(tcp + 16, tcp_checksum(a.src_ip, a.dst_ip, {tcp, len}));
  } else {
    // Offload contract: the field holds the folded pseudo-header sum, not inverted.
    uint32_t s = ipv4_pseudo_header_sum(a.src_ip, a.dst_ip, kProtoTcp, static_cast<uint16_t>(len));
    store16(tcp + 16, static_cast<uint16_t>(~checksum_fold(s)));
  }
}

uint8_t* put_tcp_header(uint8_t* p, const FlowAddress& a, uint32_t seq, uint32_t ack,
                        size_t options, uint8_t flags, uint16_t window) {
  store16(p, a.src_port);
  store16(p + 2, a.dst_port);
  store32(p + 4, seq);
  store32(p + 8, ack);
  p[12] = static_cast<uint8_t>((kTcpHeader + options) / 4 << 4);
  p[13] = flags;
  store16(p + 14, window);
  store16(p + 16, 0);
  store16(p + 18, 0);
  return p + kTcpHeader;
}

}  // namespace

size_t build_syn(std::span<uint8_t> out, const SynFields& f, ChecksumFill fill) {
  if (out.size() < kSynFrame) return 0;
  uint8_t* p = put_ethernet(out.data(), f.addr.dst_mac, f.addr.src_mac, kEtherIpv4);
  constexpr size_t tcp_len = kTcpHeader + kSynOptions;
  p = put_ipv4(p, f.addr, static_cast<uint16_t>(kIpv4Header + tcp_len), f.ip_id, fill);
  uint8_t* tcp = p;
  uint8_t* o = put_tcp_header(p, f.addr, f.seq, 0, kSynOptions, tcp_flag::kSyn, f.window);
  o[0] = 2;  // MSS
  o[1] = 4;
  store16(o + 2, f.mss);
  o[4] = 4;  // SACK permitted
  o[5] = 2;
  o[6] = 8;  // timestamps
  o[7] = 10;
  store32(o + 8, f.ts_val);
  store32(o + 12, 0);
  o[16] = 1;  // NOP
  o[17] = 3;  // window scale
  o[18] = 3;
  o[19] = f.window_scale;
  put_tcp_checksum(tcp, tcp_len, f.addr, fill);
  return kSynFrame;
}

size_t build_segment(std::span<uint8_t> out, const SegmentFields& f, ChecksumFill fill) {
  size_t options = f.timestamps ? kTimestampOptions : 0;
  size_t tcp_len = kTcpHeader + options;
  size_t frame = kEthHeader + kIpv4Header + tcp_len;
  size_t padded = frame < kMinFrame ? kMinFrame : frame;
  if (out.size() < padded) return 0;
  uint8_t* p = put_ethernet(out.data(), f.addr.dst_mac, f.addr.src_mac, kEtherIpv4);
  p = put_ipv4(p, f.addr, static_cast<uint16_t>(kIpv4Header + tcp_len), f.ip_id, fill);
  uint8_t* tcp = p;
  uint8_t* o = put_tcp_header(p, f.addr, f.seq, f.ack, options, f.flags, f.window);
  if (f.timestamps) {
    o[0] = 1;
    o[1] = 1;
    o[2] = 8;
    o[3] = 10;
    store32(o + 4, f.ts_val);
    store32(o + 8, f.ts_ecr);
  }
  put_tcp_checksum(tcp, tcp_len, f.addr, fill);
  std::memset(out.data() + frame, 0, padded - frame);
  return padded;
}

size_t build_arp(std::span<uint8_t> out, ArpOp op, const MacAddress& sender_mac, uint32_t sender_ip,
                 const MacAddress& target_mac, uint32_t target_ip) {
  if (out.size() < kMinFrame) return 0;
  const MacAddress& eth_dst = op == ArpOp::kRequest ? kBroadcastMac : target_mac;
  uint8_t* p = put_ethernet(out.data(), eth_dst, sender_mac, kEtherArp);
  store16(p, 1);  // Ethernet
  store16(p + 2, kEtherIpv4);
  p[4] = 6;
  p[5] = 4;
  store16(p + 6, static_cast<uint16_t>(op));
  std::memcpy(p + 8, sender_mac.bytes.data(), 6);
  store32(p + 14, sender_ip);
  if (op == ArpOp::kRequest)
    std::memset(p + 18, 0, 6);
  else
    std::memcpy(p + 18, target_mac.bytes.data(), 6);
  store32(p + 24, target_ip);
  std::memset(p + kArpBody, 0, kMinFrame - kEthHeader - kArpBody);
  return kMinFrame;
}

bool complete_tcp_checksum(std::span<uint8_t> frame) {
  if (frame.size() < kEthHeader + kIpv4Header || wire::load16(frame.data() + 12) != kEtherIpv4)
    return false;
  uint8_t* ip = frame.data() + kEthHeader;
  size_t ihl = static_cast<size_t>(ip[0] & 0x0f) * 4;
  size_t total = wire::load16(ip + 2);
  if (ip[9] != 6 || ihl < kIpv4Header || total < ihl + kTcpHeader ||
      kEthHeader + total > frame.size())
    return false;
  tcp_checksum_complete(wire::load32(ip + 12), wire::load32(ip + 16),
                        frame.subspan(kEthHeader + ihl, total - ihl));
  return true;
}

}  // namespace swarmdial
