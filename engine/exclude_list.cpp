#include "exclude_list.hpp"

#include <algorithm>

#include "text_lines.hpp"

namespace swarmdial {

namespace {
unsigned __int128 as_u128(const IpAddress& ip) {
  unsigned __int128 v = 0;
  for (int i = 0; i < ip.bits() / 8; ++i) v = (v << 8) | ip.bytes[i];
  return v;
}

template <typename Interval>
void merge(std::vector<Interval>& intervals) {
  std::sort(intervals.begin(), intervals.end(),
            [](const auto& a, const auto& b) { return a.lo < b.lo; });
  size_t out = 0;
  for (size_t i = 0; i < intervals.size(); ++i) {
    if (out > 0 && intervals[i].lo <= intervals[out - 1].hi + 1) {
      intervals[out - 1].hi = std::max(intervals[out - 1].hi, intervals[i].hi);
    } else {
      intervals[out++] = intervals[i];
    }
  }
  intervals.resize(out);
}
}  // namespace

void ExcludeList::add(const Cidr& block) {
  unsigned __int128 lo = as_u128(block.base);
  int host_bits = block.base.bits() - block.prefix;
  unsigned __int128 span = host_bits >= 128
                               ? ~static_cast<unsigned __int128>(0)
                               : ((static_cast<unsigned __int128>(1) << host_bits) - 1);
  (block.base.is_v4() ? v4_ : v6_).push_back({lo, lo + span});
}

void ExcludeList::finalize() {
  merge(v4_);
  merge(v6_);
}

bool ExcludeList::contains(const IpAddress& ip) const {
  const auto& list = ip.is_v4() ? v4_ : v6_;
  unsigned __int128 v = as_u128(ip);
  auto it = std::upper_bound(list.begin(), list.end(), v,
                             [](unsigned __int128 x, const Interval128& iv) { return x < iv.lo; });
  if (it == list.begin()) return false;
  --it;
  return v <= it->hi;
}

std::variant<ExcludeList, ExcludeParseError> parse_exclude_text(std::string_view body) {
  ExcludeList list;
  std::string_view bad_text;
  int bad_line = for_each_line(body, [&](std::string_view line) {
    auto text = strip_comment_and_space(line);
    if (text.empty()) return true;
    auto block = parse_cidr(text);
    if (!block) {
      bad_text = text;
      return false;
    }
    list.add(*block);
    return true;
  });
  if (bad_line != 0) return ExcludeParseError{bad_line, std::string(bad_text)};
  list.finalize();
  return list;
}

}  // namespace swarmdial
