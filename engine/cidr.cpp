#include "cidr.hpp"

#include <charconv>

namespace swarmdial {

namespace {
void clear_host_bits(IpAddress& ip, int prefix) {
  for (int bit = prefix; bit < ip.bits(); ++bit)
    ip.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
}
}  // namespace

std::optional<Cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;
  int prefix = ip->bits();
  if (slash != std::string_view::npos) {
    auto len = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
    if (len.empty() || ec != std::errc() || end != len.data() + len.size() || prefix < 0 ||
        prefix > ip->bits())
      return std::nullopt;
  }
  Cidr c{*ip, prefix};
  clear_host_bits(c.base, prefix);
  return c;
}

bool Cidr::contains(const IpAddress& ip) const {
  if (ip.family != base.family) return false;
  int full = prefix / 8;
  for (int i = 0; i < full; ++i)
    if (ip.bytes[i] != base.bytes[i]) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return (ip.bytes[full] & mask) == base.bytes[full];
}

uint64_t Cidr::size() const {
  int host_bits = base.bits() - prefix;
  if (host_bits >= 64) return UINT64_MAX;
  return uint64_t{1} << host_bits;
}

IpAddress Cidr::at(uint64_t i) const {
  IpAddress ip = base;
  // Add i into the low-order bytes, big-endian, with carry.
  int pos = ip.bits() / 8 - 1;
  unsigned carry = 0;
  while (pos >= 0 && (i != 0 || carry != 0)) {
    unsigned sum = ip.bytes[pos] + static_cast<unsigned>(i & 0xff) + carry;
    ip.bytes[pos] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
    i >>= 8;
    --pos;
  }
  return ip;
}

}  // namespace swarmdial
