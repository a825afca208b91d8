#include "tracker_url.hpp"

#include <charconv>

namespace swarmdial {

std::optional<TrackerUrl> parse_tracker_url(std::string_view url, std::string& error) {
  TrackerUrl u;
  u.text = url;
  std::string_view rest;
  if (url.starts_with("udp://")) {
    u.scheme = TrackerUrl::Scheme::kUdp;
    rest = url.substr(6);
  } else if (url.starts_with("http://")) {
    u.scheme = TrackerUrl::Scheme::kHttp;
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    error = "https trackers are not supported (no TLS client); use http:// or udp://";
    return std::nullopt;
  } else {
    error = "not a udp:// or http:// tracker URL";
    return std::nullopt;
  }
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? "/" : rest.substr(slash);
  if (authority.empty()) {
    error = "no host";
    return std::nullopt;
  }
  std::string_view host = authority, port_text;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated [IPv6] host";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        error = "junk after ]";
        return std::nullopt;
      }
      port_text = authority.substr(close + 2);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (host.empty() || host.size() > 253) {
    error = "bad host";
    return std::nullopt;
  }
  u.host = host;
  if (port_text.empty()) {
    if (u.scheme == TrackerUrl::Scheme::kUdp) {
      error = "udp:// needs a port";
      return std::nullopt;
    }
    u.port = 80;
  } else {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || v == 0 || v > 65535) {
      error = "bad port '" + std::string(port_text) + "'";
      return std::nullopt;
    }
    u.port = static_cast<uint16_t>(v);
  }
  if (target.front() == '?')
    u.target = "/" + std::string(target);
  else
    u.target = target;
  return u;
}

}  // namespace swarmdial
