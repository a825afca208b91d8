#pragma once
// Parses one received Ethernet frame with full validation (lengths, IPv4
// header checksum, TCP/ICMP checksums, TCP options) into a flat struct.
// Pure and allocation-free. A frame that fails a check comes back as
// kInvalid with a static reason, so the caller can count it and drop it.
#include <cstdint>
#include <span>

#include "frame_layout.hpp"

namespace swarmdial {

enum class FrameKind : uint8_t {
  kInvalid,          // failed validation: see ParsedFrame::error
  kArp,              // IPv4-over-Ethernet ARP
  kTcp,              // an IPv4 TCP segment
  kIcmpUnreachable,  // ICMP destination unreachable quoting a TCP segment
  kIgnored,          // valid, but nothing the handshake uses (other protocols, fragments)
};

// Options as received. A bad option ends parsing (the rest is ignored, as
// Linux does) and sets `malformed`; what was parsed before it stays.
struct TcpOptions {
  uint16_t mss = 0;  // 0 = absent
  bool sack_permitted = false;
  int8_t window_scale = -1;  // -1 = absent; values above 14 are clamped to 14 (RFC 7323)
  bool timestamps = false;
  uint32_t ts_val = 0, ts_ecr = 0;
  bool malformed = false;
};

struct TcpSegmentView {
  uint16_t src_port = 0, dst_port = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  uint16_t payload_len = 0;
  TcpOptions options;
  // The checksum field holds only the pseudo-header sum (a local sender left
  // it to offload, see tcp_checksum_is_partial): accepted, and to be
  // completed before the frame goes to a kernel that checks it.
  bool checksum_partial = false;
};

// The part of our own segment an ICMP error quotes back (RFC 792: IP header
// plus the first 8 bytes: ports and sequence number).
struct QuotedSegment {
  uint32_t src_ip = 0, dst_ip = 0;
  uint16_t src_port = 0, dst_port = 0;
  uint32_t seq = 0;
};

struct ArpView {
  uint16_t op = 0;
  MacAddress sender_mac;
  uint32_t sender_ip = 0;
  uint32_t target_ip = 0;
};

struct ParsedFrame {
  FrameKind kind = FrameKind::kInvalid;
  const char* error = nullptr;  // static text, set when kind == kInvalid
  MacAddress src_mac, dst_mac;
  uint32_t src_ip = 0, dst_ip = 0;  // host order
  TcpSegmentView tcp;               // kTcp
  uint8_t icmp_type = 0, icmp_code = 0;
  QuotedSegment quoted;  // kIcmpUnreachable
  ArpView arp;           // kArp
};

// kTrusted skips the TCP/ICMP checksum when the port already verified it
// (RX checksum offload). The IPv4 header checksum is always checked.
enum class L4Checksum : uint8_t { kVerify, kTrusted };

ParsedFrame parse_frame(std::span<const uint8_t> frame, L4Checksum l4 = L4Checksum::kVerify);

// Parses a TCP option list (the bytes after the fixed 20-byte header).
TcpOptions parse_tcp_options(std::span<const uint8_t> options);

}  // namespace swarmdial
