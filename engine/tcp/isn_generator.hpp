#pragma once
// Initial sequence numbers per RFC 6528: ISN = M + F(4-tuple, secret), with M
// a clock ticking every 4 microseconds and F a keyed PRF (SipHash-2-4). An
// off-path attacker who cannot learn the key cannot predict our ISNs, so a
// blind SYN-ACK or RST cannot be forged into a flow.
#include <array>
#include <cstdint>

namespace swarmdial {

// SipHash-2-4 of exactly 16 bytes (two little-endian words), the only input
// size the engine hashes: a 4-tuple plus a salt.
uint64_t siphash24_2words(const std::array<uint64_t, 2>& key, uint64_t w0, uint64_t w1);

class IsnGenerator {
 public:
  explicit IsnGenerator(const std::array<uint64_t, 2>& key) : key_(key) {}

  // Addresses and ports in host order; now_ns from the monotonic clock.
  uint32_t isn(uint32_t local_ip, uint16_t local_port, uint32_t remote_ip, uint16_t remote_port,
               int64_t now_ns) const {
    return static_cast<uint32_t>(now_ns / 4000) +
           static_cast<uint32_t>(keyed(local_ip, local_port, remote_ip, remote_port, 0));
  }

  // A per-flow offset for the TCP timestamp clock (as Linux does since 4.10),
  // so timestamps do not reveal uptime or link flows together.
  uint32_t timestamp_offset(uint32_t local_ip, uint32_t remote_ip) const {
    return static_cast<uint32_t>(keyed(local_ip, 0, remote_ip, 0, 1));
  }

 private:
  uint64_t keyed(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport, uint64_t salt) const {
    uint64_t w0 = uint64_t{lip} << 32 | rip;
    uint64_t w1 = uint64_t{lport} << 48 | uint64_t{rport} << 32 | salt;
    return siphash24_2words(key_, w0, w1);
  }

  std::array<uint64_t, 2> key_;
};

}  // namespace swarmdial
