#include "port_list.hpp"

#include <array>
#include <bit>

#include "endpoint.hpp"

namespace swarmdial {
namespace {

// A set of every port, not a list of what was written: "1-65535" repeated a
// thousand times in 8 KB of input would otherwise expand to 65 million
// entries before they were sorted and deduplicated. Ranges fill whole words.
class PortSet {
 public:
  void add(unsigned lo, unsigned hi) {
    for (unsigned p = lo; p <= hi;) {
      unsigned bit = p % 64, n = std::min(64 - bit, hi - p + 1);
      words_[p / 64] |= (n == 64 ? ~uint64_t{0} : ((uint64_t{1} << n) - 1)) << bit;
      p += n;
    }
  }
  std::vector<uint16_t> sorted() const {
    size_t count = 0;
    for (uint64_t w : words_) count += static_cast<size_t>(std::popcount(w));
    std::vector<uint16_t> out;
    out.reserve(count);
    for (unsigned i = 0; i < words_.size(); ++i)
      for (uint64_t w = words_[i]; w; w &= w - 1)
        out.push_back(static_cast<uint16_t>(i * 64 + static_cast<unsigned>(std::countr_zero(w))));
    return out;
  }

 private:
  std::array<uint64_t, 65536 / 64> words_{};
};

}  // namespace

std::optional<std::vector<uint16_t>> parse_port_list(std::string_view text) {
  PortSet ports;
  if (text.empty()) return std::nullopt;
  while (true) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    auto dash = item.find('-');
    if (dash == std::string_view::npos) {
      auto p = parse_port(item);
      if (!p) return std::nullopt;
      ports.add(*p, *p);
    } else {
      auto lo = parse_port(item.substr(0, dash));
      auto hi = parse_port(item.substr(dash + 1));
      if (!lo || !hi || *lo > *hi) return std::nullopt;
      ports.add(*lo, *hi);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return ports.sorted();
}

}  // namespace swarmdial
