#include "peer_list.hpp"

#include "text_lines.hpp"

namespace swarmdial {

namespace {
constexpr size_t kMaxListedPeers = 10'000'000;
}

std::variant<std::vector<ListedPeer>, TargetParseError> parse_peer_list(std::string_view body) {
  std::vector<ListedPeer> out;
  std::string_view bad_text;
  int bad_line = for_each_line(body, [&](std::string_view line) {
    auto text = strip_comment_and_space(line);
    if (text.empty()) return true;
    auto blank = text.find_first_of(" \t");
    ListedPeer p;
    auto ep = parse_endpoint(text.substr(0, blank));
    if (blank != std::string_view::npos) {
      auto rest = strip_comment_and_space(text.substr(blank));
      p.torrent = parse_info_hash_hex(rest);
      if (!p.torrent) ep.reset();
    }
    if (!ep || out.size() >= kMaxListedPeers) {
      bad_text = text;
      return false;
    }
    p.peer = *ep;
    out.push_back(p);
    return true;
  });
  if (bad_line != 0) return TargetParseError{bad_line, std::string(bad_text)};
  return out;
}

}  // namespace swarmdial
