#pragma once
// Builds the frames of an outbound handshake into a caller's buffer: the SYN
// (as Linux sends it), the final ACK, RSTs, and ARP. Pure functions: bytes
// in, bytes out, no allocation. Each returns the frame length, or 0 when the
// buffer is too small.
#include <cstddef>
#include <cstdint>
#include <span>

#include "frame_layout.hpp"

namespace swarmdial {

struct SynFields {
  FlowAddress addr;
  uint32_t seq = 0;  // our ISN
  uint16_t mss = 1460;
  uint8_t window_scale = 7;
  uint16_t window = 64240;
  uint32_t ts_val = 0;
  uint16_t ip_id = 0;
};

struct SegmentFields {
  FlowAddress addr;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;  // as sent (already scaled down)
  bool timestamps = false;
  uint32_t ts_val = 0, ts_ecr = 0;
  uint16_t ip_id = 0;
};

size_t build_syn(std::span<uint8_t> out, const SynFields& f, ChecksumFill fill);
// ACK, RST or RST|ACK without payload.
size_t build_segment(std::span<uint8_t> out, const SegmentFields& f, ChecksumFill fill);

enum class ArpOp : uint16_t { kRequest = 1, kReply = 2 };
// An ARP packet for IPv4 over Ethernet, padded to the minimum frame size.
// A request goes to broadcast with an all-zero target hardware address.
// Completes the TCP checksum of a received IPv4 frame whose sender left it
// partial (ParsedFrame::tcp.checksum_partial), before the frame is handed
// to a kernel that will check it. False when the frame is not IPv4/TCP.
bool complete_tcp_checksum(std::span<uint8_t> frame);

size_t build_arp(std::span<uint8_t> out, ArpOp op, const MacAddress& sender_mac, uint32_t sender_ip,
                 const MacAddress& target_mac, uint32_t target_ip);

}  // namespace swarmdial
