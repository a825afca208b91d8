#include "port_list.hpp"

#include <algorithm>

#include "endpoint.hpp"

namespace swarmdial {

std::optional<std::vector<uint16_t>> parse_port_list(std::string_view text) {
  std::vector<uint16_t> ports;
  if (text.empty()) return std::nullopt;
  while (true) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    auto dash = item.find('-');
    if (dash == std::string_view::npos) {
      auto p = parse_port(item);
      if (!p) return std::nullopt;
      ports.push_back(*p);
    } else {
      auto lo = parse_port(item.substr(0, dash));
      auto hi = parse_port(item.substr(dash + 1));
      if (!lo || !hi || *lo > *hi) return std::nullopt;
      for (unsigned p = *lo; p <= *hi; ++p) ports.push_back(static_cast<uint16_t>(p));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  return ports;
}

}  // namespace swarmdial
