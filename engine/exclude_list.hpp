#pragma once
// A set of CIDR blocks that must never be dialed (--exclude FILE), stored as
// sorted, merged address intervals so a lookup is one binary search.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cidr.hpp"

namespace swarmdial {

class ExcludeList {
 public:
  void add(const Cidr& block);
  // Sorts and merges; call after the last add().
  void finalize();
  bool contains(const IpAddress& ip) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }

 private:
  struct Interval128 {
    unsigned __int128 lo, hi;
  };
  std::vector<Interval128> v4_, v6_;
};

struct ExcludeParseError {
  int line = 0;
  std::string text;
};

// Parses the file body: one CIDR or address per line, '#' comments and blank
// lines allowed. On failure, returns the first bad line.
std::variant<ExcludeList, ExcludeParseError> parse_exclude_text(std::string_view body);

}  // namespace swarmdial
