#pragma once
// HTTP tracker messages (BEP 3, BEP 23 compact peers, BEP 7 peers6),
// sans-I/O: the request target to GET, and the bencoded reply parsed.
#include <string>
#include <string_view>
#include <variant>

#include "announce.hpp"
#include "tracker_url.hpp"

namespace swarmdial {

// The path and query to GET: the URL's own target plus the announce keys.
std::string http_announce_target(const TrackerUrl& url, const AnnounceRequest& r);

struct TrackerFailure {
  bool from_tracker = false;  // a "failure reason" (the tracker said no) vs a malformed reply
  std::string text;
};

std::variant<AnnounceResponse, TrackerFailure> parse_http_announce(
    std::string_view body, const TrackerReplyLimits& limits = {});

// Appends `bytes` URL-encoded (RFC 3986 unreserved characters kept).
void url_encode(std::string& out, std::string_view bytes);

}  // namespace swarmdial
