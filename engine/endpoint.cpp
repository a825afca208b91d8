#include "endpoint.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace swarmdial {

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (inet_pton(AF_INET, buf, ip.bytes.data()) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
    ip.family = AF_INET6;
    return ip;
  }
  return std::nullopt;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // v6 needs brackets
  }
  auto ip = parse_ip(host);
  auto p = parse_port(port);
  if (!ip || !p) return std::nullopt;
  return Endpoint{*ip, *p};
}

std::string format_ip(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(ip.family, ip.bytes.data(), buf, sizeof buf);
  return buf;
}

std::string format_endpoint(const Endpoint& ep) {
  if (ep.ip.is_v4()) return format_ip(ep.ip) + ":" + std::to_string(ep.port);
  return "[" + format_ip(ep.ip) + "]:" + std::to_string(ep.port);
}

socklen_t to_sockaddr(const Endpoint& ep, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (ep.ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(ep.port);
    std::memcpy(&sin->sin_addr, ep.ip.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(ep.port);
  std::memcpy(&sin6->sin6_addr, ep.ip.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

uint64_t endpoint_hash(const Endpoint& ep) {
  // splitmix64 over the folded address words: cheap and well mixed.
  uint64_t x = ep.ip.family;
  for (int i = 0; i < 16; i += 8) {
    uint64_t w;
    std::memcpy(&w, ep.ip.bytes.data() + i, 8);
    x ^= w + 0x9e3779b97f4a7c15ULL + (x << 6) + (x >> 2);
  }
  x ^= static_cast<uint64_t>(ep.port) << 17;
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace swarmdial
