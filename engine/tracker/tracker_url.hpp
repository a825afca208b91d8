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
};

// Returns the URL, or a one-line reason in `error`.
std::optional<TrackerUrl> parse_tracker_url(std::string_view url, std::string& error);

}  // namespace swarmdial
