#pragma once
// The one Boost.Beast response parser set-up for every HTTP tracker client
// (the announcer, the load generator, the emulated swarm's announces): a
// tracker reply gets 16 KiB of headers and TrackerReplyLimits' body at most.
// clang-format off
#include <utility>  // Boost 1.74's asio uses std::exchange without including this
// clang-format on
#include <boost/beast/http.hpp>

#include "engine/tracker/announce.hpp"

namespace swarmdial {

using TrackerResponseParser = boost::beast::http::response_parser<boost::beast::http::string_body>;

inline constexpr size_t kTrackerMaxHeader = 16 * 1024;

inline void limit_tracker_reply(TrackerResponseParser& p) {
  p.header_limit(kTrackerMaxHeader);
  p.body_limit(TrackerReplyLimits{}.max_body);
  p.eager(true);
}

}  // namespace swarmdial
