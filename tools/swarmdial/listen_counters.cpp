#include "listen_counters.hpp"

#include <fstream>
#include <string>
#include <vector>

namespace swarmdial {

namespace {

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

std::optional<ListenCounters> parse_listen_counters(std::string_view text) {
  // Two lines per group: "TcpExt: Name1 Name2 ..." then "TcpExt: 1 2 ...".
  std::vector<std::string_view> lines;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (!lines[i].starts_with("TcpExt:") || !lines[i + 1].starts_with("TcpExt:")) continue;
    auto names = fields(lines[i]), values = fields(lines[i + 1]);
    if (names.size() != values.size()) return std::nullopt;
    ListenCounters c;
    for (size_t k = 1; k < names.size(); ++k) {
      uint64_t v = 0;
      for (char ch : values[k]) {
        if (ch < '0' || ch > '9') return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(ch - '0');
      }
      if (names[k] == "SyncookiesSent") c.syncookies_sent = v;
      if (names[k] == "ListenOverflows") c.listen_overflows = v;
      if (names[k] == "ListenDrops") c.listen_drops = v;
    }
    return c;
  }
  return std::nullopt;
}

std::optional<ListenCounters> read_listen_counters() {
  std::ifstream in("/proc/net/netstat");
  if (!in) return std::nullopt;
  // The file is a few KiB; a cap keeps a strange procfs from growing us.
  std::string text;
  text.resize(1 << 16);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return parse_listen_counters(text);
}

}  // namespace swarmdial
