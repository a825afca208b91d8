#pragma once
// CIDR blocks: parsing, membership and indexed access to their hosts, which the
// range expansion and the exclude list are built on.
#include <cstdint>
#include <optional>
#include <string_view>

#include "endpoint.hpp"

namespace swarmdial {

struct Cidr {
  IpAddress base;  // with host bits cleared
  int prefix = 32;

  bool contains(const IpAddress& ip) const;
  // Number of addresses, saturated at 2^64-1 for huge IPv6 blocks.
  uint64_t size() const;
  // The i-th address of the block (i < size()).
  IpAddress at(uint64_t i) const;
};

// Accepts "a.b.c.d/len", "v6/len", or a bare address (a /32 or /128).
std::optional<Cidr> parse_cidr(std::string_view text);

}  // namespace swarmdial
