#include "inet_checksum.hpp"

#include "byte_order.hpp"

namespace swarmdial {

uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> bytes) {
  size_t n = bytes.size();
  const uint8_t* p = bytes.data();
  // 64-bit accumulator: no carry handling inside the loop.
  uint64_t acc = sum;
  size_t i = 0;
  for (; i + 1 < n; i += 2) acc += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (i < n) acc += static_cast<uint32_t>(p[i] << 8);
  while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<uint32_t>(acc);
}

uint16_t checksum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffffu);
}

uint32_t ipv4_pseudo_header_sum(uint32_t src, uint32_t dst, uint8_t protocol, uint16_t length) {
  uint64_t acc = (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu);
  acc += protocol;
  acc += length;
  while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<uint32_t>(acc);
}

uint16_t tcp_checksum(uint32_t src, uint32_t dst, std::span<const uint8_t> segment) {
  uint32_t sum = ipv4_pseudo_header_sum(src, dst, 6, static_cast<uint16_t>(segment.size()));
  return checksum_fold(checksum_add(sum, segment));
}

bool tcp_checksum_is_partial(uint32_t src, uint32_t dst, std::span<const uint8_t> segment) {
  if (segment.size() < 18) return false;
  uint32_t pseudo = ipv4_pseudo_header_sum(src, dst, 6, static_cast<uint16_t>(segment.size()));
  // The kernel stores the folded sum itself, not its complement.
  uint16_t expected = static_cast<uint16_t>(~checksum_fold(pseudo));
  return wire::load16(segment.data() + 16) == expected;
}

void tcp_checksum_complete(uint32_t src, uint32_t dst, std::span<uint8_t> segment) {
  if (segment.size() < 18) return;
  segment[16] = segment[17] = 0;
  uint16_t c = tcp_checksum(src, dst, segment);
  segment[16] = static_cast<uint8_t>(c >> 8);
  segment[17] = static_cast<uint8_t>(c);
}

}  // namespace swarmdial
