#include "info_hash_list.hpp"

#include <algorithm>
#include <utility>

#include "engine/text_lines.hpp"

namespace swarmdial {

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_hex_hash(std::string_view s, InfoHash& out) {
  if (s.size() != 2 * out.size()) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}
}  // namespace

std::variant<std::vector<InfoHash>, InfoHashListError> parse_info_hash_list(std::string_view text,
                                                                            size_t max_hashes) {
  std::vector<InfoHash> hashes;
  InfoHashListError err;
  int bad = for_each_line(text, [&](std::string_view raw) {
    std::string_view line = strip_comment_and_space(raw);
    if (line.empty()) return true;
    InfoHash h;
    if (!parse_hex_hash(line, h)) {
      err.what = "'" + std::string(line.substr(0, 80)) + "' is not a 40-digit hex info-hash";
      return false;
    }
    if (hashes.size() == max_hashes) {
      err.what = "more than " + std::to_string(max_hashes) + " info-hashes";
      return false;
    }
    hashes.push_back(h);
    return true;
  });
  if (bad) {
    err.line = bad;
    return err;
  }
  if (hashes.empty()) return InfoHashListError{0, "no info-hashes in it"};
  // Line numbers are recounted only on the error path, to name the repeat.
  std::vector<size_t> order(hashes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return hashes[a] != hashes[b] ? hashes[a] < hashes[b] : a < b;
  });
  for (size_t i = 1; i < order.size(); ++i) {
    if (hashes[order[i]] != hashes[order[i - 1]]) continue;
    size_t repeat = order[i], nth = 0;
    int line_no = for_each_line(text, [&](std::string_view raw) {
      if (strip_comment_and_space(raw).empty()) return true;
      return nth++ != repeat;
    });
    return InfoHashListError{line_no, "repeats an info-hash given earlier"};
  }
  return hashes;
}

}  // namespace swarmdial
