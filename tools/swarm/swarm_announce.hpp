#pragma once
// One blocking announce on behalf of an emulated peer: the socket is bound
// to the peer's own loopback address, so the tracker records that address
// (trackers take the sender's IP), exactly as if the peer announced itself.
// Used by `swarm --tracker` to publish its peers, dead ones included.
#include <string>
#include <variant>

#include "engine/tracker/announce.hpp"
#include "engine/tracker/tracker_url.hpp"

namespace swarmdial {

// The response, or a one-line reason. Bounded by `timeout_ms` per step.
std::variant<AnnounceResponse, std::string> announce_as_peer(const TrackerUrl& url,
                                                             const IpAddress& as,
                                                             const AnnounceRequest& r,
                                                             int timeout_ms);

}  // namespace swarmdial
