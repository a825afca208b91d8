#pragma once
// RFC 1071 ones'-complement sums: the IPv4 header checksum and the TCP/ICMP
// checksums, with the IPv4 pseudo-header for TCP.
#include <cstdint>
#include <span>

namespace swarmdial {

// Adds bytes to a running 32-bit sum (big-endian 16-bit words; an odd last
// byte is padded with zero, as the RFC says).
uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> bytes);
// Folds a running sum into the 16-bit checksum field value.
uint16_t checksum_fold(uint32_t sum);

// Sum of the IPv4 pseudo-header (addresses in host order).
uint32_t ipv4_pseudo_header_sum(uint32_t src, uint32_t dst, uint8_t protocol, uint16_t length);

// The checksum a TCP segment must carry (its checksum field treated as zero
// is NOT assumed: call it with the field zeroed when building).
uint16_t tcp_checksum(uint32_t src, uint32_t dst, std::span<const uint8_t> segment);

// Whether a segment's checksum field holds only its pseudo-header sum: what
// a sender that left the checksum to offload (Linux's CHECKSUM_PARTIAL)
// puts there. Such frames reach a packet socket or an AF_XDP socket from a
// veth or a local sender before anything completed them.
bool tcp_checksum_is_partial(uint32_t src, uint32_t dst, std::span<const uint8_t> segment);

// Writes the full checksum into a segment's checksum field.
void tcp_checksum_complete(uint32_t src, uint32_t dst, std::span<uint8_t> segment);

}  // namespace swarmdial
