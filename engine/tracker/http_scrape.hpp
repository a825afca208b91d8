#pragma once
// HTTP scrape (BEP 48), sans-I/O: the scrape URL a tracker's announce URL
// implies, and the request target for a set of info-hashes.
#include <optional>
#include <span>
#include <string>

#include "announce.hpp"
#include "tracker_url.hpp"

namespace swarmdial {

// BEP 48: the last path component must begin with "announce", which
// becomes "scrape" (query kept). nullopt: the tracker has no scrape URL.
std::optional<std::string> http_scrape_path(const TrackerUrl& url);

// `scrape_path` from http_scrape_path, plus one info_hash per torrent.
std::string http_scrape_target(const std::string& scrape_path, std::span<const InfoHash> hashes);

}  // namespace swarmdial
