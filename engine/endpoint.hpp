#pragma once
// An IPv4 or IPv6 address plus TCP port, stored by value so target lists and
// flow slots stay flat arrays with no per-entry allocation.
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace swarmdial {

struct IpAddress {
  uint8_t family = AF_INET;         // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4 bytes, network order

  bool is_v4() const { return family == AF_INET; }
  int bits() const { return is_v4() ? 32 : 128; }
  bool operator==(const IpAddress&) const = default;
};

struct Endpoint {
  IpAddress ip;
  uint16_t port = 0;  // host order
  bool operator==(const Endpoint&) const = default;
};

// Parses a bare IPv4 or IPv6 address (no brackets, no port).
std::optional<IpAddress> parse_ip(std::string_view text);
// Parses "a.b.c.d:port" or "[v6]:port".
std::optional<Endpoint> parse_endpoint(std::string_view text);
// Parses a decimal TCP/UDP port 1..65535.
std::optional<uint16_t> parse_port(std::string_view text);

std::string format_ip(const IpAddress& ip);
std::string format_endpoint(const Endpoint& ep);

// Fills a sockaddr for connect()/bind(); returns its length.
socklen_t to_sockaddr(const Endpoint& ep, sockaddr_storage& out);

// 64-bit mix of address and port, used to partition targets over shards.
uint64_t endpoint_hash(const Endpoint& ep);

}  // namespace swarmdial
