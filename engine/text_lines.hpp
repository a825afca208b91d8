#pragma once
// Line iteration shared by the target and exclude file parsers.
#include <string_view>

namespace swarmdial {

// Calls fn(line) for each line (without '\n' or '\r'). Stops when fn returns
// false and returns that line's 1-based number; returns 0 when all lines passed.
template <typename Fn>
int for_each_line(std::string_view body, Fn&& fn) {
  int line_no = 0;
  while (!body.empty()) {
    ++line_no;
    auto nl = body.find('\n');
    auto line = body.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!fn(line)) return line_no;
    if (nl == std::string_view::npos) break;
    body.remove_prefix(nl + 1);
  }
  return 0;
}

// Drops a trailing '#' comment and surrounding blanks.
inline std::string_view strip_comment_and_space(std::string_view line) {
  if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  return line;
}

}  // namespace swarmdial
