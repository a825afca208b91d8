#include "http_scrape.hpp"

#include "http_announce.hpp"

namespace swarmdial {

std::optional<std::string> http_scrape_path(const TrackerUrl& url) {
  const std::string& t = url.target;
  size_t query = t.find('?');
  size_t slash = t.rfind('/', query == std::string::npos ? std::string::npos : query);
  if (slash == std::string::npos) return std::nullopt;
  const std::string_view word = "announce";
  if (t.compare(slash + 1, word.size(), word) != 0) return std::nullopt;
  return t.substr(0, slash + 1) + "scrape" + t.substr(slash + 1 + word.size());
}

std::string http_scrape_target(const std::string& scrape_path, std::span<const InfoHash> hashes) {
  std::string t = scrape_path;
  t.reserve(t.size() + hashes.size() * 72);
  char sep = t.find('?') == std::string::npos ? '?' : '&';
  for (const InfoHash& h : hashes) {
    t += sep;
    t += "info_hash=";
    url_encode(t, {reinterpret_cast<const char*>(h.data()), h.size()});
    sep = '&';
  }
  return t;
}

}  // namespace swarmdial
