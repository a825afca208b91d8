#pragma once
// Tracker URLs: udp://host:port[/...] (BEP 15) and http://host[:port]/path[?query]
// (BEP 3). https is refused: no TLS client is built in.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace swarmdial {

struct TrackerUrl {
  enum class Scheme : uint8_t { kUdp, kHttp } scheme = Scheme::kHttp;
  std::string host;
  uint16_t port = 0;
  std::string target;  // http: path and query, e.g. "/announce?passkey=x"; udp: unused
  std::string text;    // the URL as given
  // An IPv6 tracker is given by its address, in brackets: http://[::1]:6969/.
  bool ipv6_literal() const { return host.find(':') != std::string::npos; }
  // host[:port] as HTTP's Host header and URLs write it ([ADDR] for IPv6).
  std::string authority() const {
    std::string h = ipv6_literal() ? "[" + host + "]" : host;
    return port == 80 && scheme == Scheme::kHttp ? h : h + ":" + std::to_string(port);
  }
};

// Returns the URL, or a one-line reason in `error`.
std::optional<TrackerUrl> parse_tracker_url(std::string_view url, std::string& error);

}  // namespace swarmdial
