#pragma once
// Sizes and field values of the frames the userspace handshake speaks:
// Ethernet II, IPv4 without options, TCP, ARP over Ethernet, ICMP.
#include <array>
#include <cstddef>
#include <cstdint>

namespace swarmdial {

struct MacAddress {
  std::array<uint8_t, 6> bytes{};
  bool operator==(const MacAddress&) const = default;
  bool is_zero() const { return bytes == std::array<uint8_t, 6>{}; }
};

inline constexpr MacAddress kBroadcastMac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

inline constexpr size_t kEthHeader = 14;
inline constexpr size_t kIpv4Header = 20;
inline constexpr size_t kTcpHeader = 20;
inline constexpr size_t kArpBody = 28;
// Shortest Ethernet frame without FCS; shorter frames are padded.
inline constexpr size_t kMinFrame = 60;

inline constexpr uint16_t kEtherIpv4 = 0x0800;
inline constexpr uint16_t kEtherArp = 0x0806;
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;

namespace tcp_flag {
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
}

// The SYN's options as Linux orders them: MSS, SACK-permitted, timestamps,
// NOP, window scale (20 bytes, so the header is 40).
inline constexpr size_t kSynOptions = 20;
inline constexpr size_t kSynFrame = kEthHeader + kIpv4Header + kTcpHeader + kSynOptions;
// ACK/RST with NOP, NOP, timestamps (12 bytes) when timestamps were agreed.
inline constexpr size_t kTimestampOptions = 12;
inline constexpr size_t kMaxSegmentFrame =
    kEthHeader + kIpv4Header + kTcpHeader + kTimestampOptions;

// Addresses of one flow, from our side: src is the engine, dst the peer.
// IPv4 addresses and ports in host order.
struct FlowAddress {
  MacAddress src_mac, dst_mac;
  uint32_t src_ip = 0, dst_ip = 0;
  uint16_t src_port = 0, dst_port = 0;
};

// How a built frame's checksums are filled: fully in software, or left for
// a port with IPv4/TCP checksum offload (IP checksum zero, TCP checksum
// field holding the pseudo-header sum, as DPDK's offload contract wants).
enum class ChecksumFill : uint8_t { kSoftware, kOffload };

}  // namespace swarmdial
