#include "packet_parser.hpp"

#include <algorithm>
#include <cstring>

#include "byte_order.hpp"
#include "inet_checksum.hpp"

namespace swarmdial {
namespace {

using wire::load16;
using wire::load32;

ParsedFrame invalid(ParsedFrame f, const char* why) {
  f.kind = FrameKind::kInvalid;
  f.error = why;
  return f;
}

ParsedFrame parse_arp(ParsedFrame f, std::span<const uint8_t> body) {
  if (body.size() < kArpBody) return invalid(f, "truncated ARP");
  const uint8_t* p = body.data();
  if (load16(p) != 1 || load16(p + 2) != kEtherIpv4 || p[4] != 6 || p[5] != 4)
    return invalid(f, "ARP for another protocol");
  f.kind = FrameKind::kArp;
  f.arp.op = load16(p + 6);
  std::memcpy(f.arp.sender_mac.bytes.data(), p + 8, 6);
  f.arp.sender_ip = load32(p + 14);
  f.arp.target_ip = load32(p + 24);
  return f;
}

ParsedFrame parse_tcp(ParsedFrame f, std::span<const uint8_t> seg, L4Checksum l4) {
  if (seg.size() < kTcpHeader) return invalid(f, "truncated TCP header");
  const uint8_t* p = seg.data();
  size_t header = static_cast<size_t>(p[12] >> 4) * 4;
  if (header < kTcpHeader || header > seg.size()) return invalid(f, "bad TCP data offset");
  if (l4 == L4Checksum::kVerify && tcp_checksum(f.src_ip, f.dst_ip, seg) != 0) {
    if (!tcp_checksum_is_partial(f.src_ip, f.dst_ip, seg)) return invalid(f, "bad TCP checksum");
    f.tcp.checksum_partial = true;
  }
  TcpSegmentView& t = f.tcp;
  t.src_port = load16(p);
  t.dst_port = load16(p + 2);
  t.seq = load32(p + 4);
  t.ack = load32(p + 8);
  t.flags = p[13];
  t.window = load16(p + 14);
  t.payload_len = static_cast<uint16_t>(seg.size() - header);
  t.options = parse_tcp_options(seg.subspan(kTcpHeader, header - kTcpHeader));
  f.kind = FrameKind::kTcp;
  return f;
}

ParsedFrame parse_icmp(ParsedFrame f, std::span<const uint8_t> msg, L4Checksum l4) {
  // Type, code, checksum, 4 unused bytes, then the quoted IP header + 8 bytes.
  if (msg.size() < 8) return invalid(f, "truncated ICMP header");
  if (l4 == L4Checksum::kVerify && checksum_fold(checksum_add(0, msg)) != 0)
    return invalid(f, "bad ICMP checksum");
  f.icmp_type = msg[0];
  f.icmp_code = msg[1];
  // Only "destination unreachable" is a hard error for a SYN; code 4
  // (fragmentation needed) is path-MTU news, not an outcome.
  if (f.icmp_type != 3 || f.icmp_code == 4) {
    f.kind = FrameKind::kIgnored;
    return f;
  }
  std::span<const uint8_t> quoted = msg.subspan(8);
  if (quoted.size() < kIpv4Header) return invalid(f, "truncated ICMP quote");
  size_t ihl = static_cast<size_t>(quoted[0] & 0x0fu) * 4;
  if ((quoted[0] >> 4) != 4 || ihl < kIpv4Header || quoted.size() < ihl + 8)
    return invalid(f, "truncated ICMP quote");
  if (quoted[9] != kProtoTcp) {
    f.kind = FrameKind::kIgnored;
    return f;
  }
  f.quoted.src_ip = load32(quoted.data() + 12);
  f.quoted.dst_ip = load32(quoted.data() + 16);
  const uint8_t* q = quoted.data() + ihl;
  f.quoted.src_port = load16(q);
  f.quoted.dst_port = load16(q + 2);
  f.quoted.seq = load32(q + 4);
  f.kind = FrameKind::kIcmpUnreachable;
  return f;
}

}  // namespace

TcpOptions parse_tcp_options(std::span<const uint8_t> o) {
  TcpOptions out;
  size_t i = 0;
  while (i < o.size()) {
    uint8_t kind = o[i];
    if (kind == 0) break;  // end of list
    if (kind == 1) {       // NOP
      ++i;
      continue;
    }
    if (i + 1 >= o.size() || o[i + 1] < 2 || i + o[i + 1] > o.size()) {
      out.malformed = true;
      break;
    }
    uint8_t len = o[i + 1];
    const uint8_t* v = o.data() + i + 2;
    switch (kind) {
      case 2:
        if (len == 4)
          out.mss = load16(v);
        else
          out.malformed = true;
        break;
      case 3:
        if (len == 3)
          out.window_scale = static_cast<int8_t>(std::min<uint8_t>(v[0], 14));
        else
          out.malformed = true;
        break;
      case 4:
        if (len == 2)
          out.sack_permitted = true;
        else
          out.malformed = true;
        break;
      case 8:
        if (len == 10) {
          out.timestamps = true;
          out.ts_val = load32(v);
          out.ts_ecr = load32(v + 4);
        } else {
          out.malformed = true;
        }
        break;
      default:
        break;  // unknown options are skipped by their length
    }
    i += len;
  }
  return out;
}

ParsedFrame parse_frame(std::span<const uint8_t> frame, L4Checksum l4) {
  ParsedFrame f;
  if (frame.size() < kEthHeader) return invalid(f, "truncated Ethernet header");
  std::memcpy(f.dst_mac.bytes.data(), frame.data(), 6);
  std::memcpy(f.src_mac.bytes.data(), frame.data() + 6, 6);
  uint16_t type = load16(frame.data() + 12);
  std::span<const uint8_t> body = frame.subspan(kEthHeader);
  if (type == kEtherArp) return parse_arp(f, body);
  if (type != kEtherIpv4) {
    f.kind = FrameKind::kIgnored;
    return f;
  }
  if (body.size() < kIpv4Header) return invalid(f, "truncated IPv4 header");
  const uint8_t* ip = body.data();
  size_t ihl = static_cast<size_t>(ip[0] & 0x0fu) * 4;
  if ((ip[0] >> 4) != 4) return invalid(f, "not IPv4");
  if (ihl < kIpv4Header || ihl > body.size()) return invalid(f, "bad IPv4 header length");
  size_t total = load16(ip + 2);
  // Frames may carry Ethernet padding beyond the datagram, never less.
  if (total < ihl || total > body.size()) return invalid(f, "bad IPv4 total length");
  if (checksum_fold(checksum_add(0, {ip, ihl})) != 0) return invalid(f, "bad IPv4 checksum");
  f.src_ip = load32(ip + 12);
  f.dst_ip = load32(ip + 16);
  uint16_t frag = load16(ip + 6);
  if ((frag & 0x3fffu) != 0) {  // MF set or an offset: we never reassemble
    f.kind = FrameKind::kIgnored;
    return f;
  }
  std::span<const uint8_t> payload = body.subspan(ihl, total - ihl);
  if (ip[9] == kProtoTcp) return parse_tcp(f, payload, l4);
  if (ip[9] == kProtoIcmp) return parse_icmp(f, payload, l4);
  f.kind = FrameKind::kIgnored;
  return f;
}

}  // namespace swarmdial
