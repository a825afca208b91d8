#pragma once
// A tracker's address for the load generator's sockets.
#include <sys/socket.h>

#include "engine/tracker/tracker_url.hpp"

namespace swarmdial {

// Throws std::runtime_error naming the tracker when the host does not resolve.
sockaddr_storage resolve_tracker(const TrackerUrl& url, bool udp, socklen_t& len);

}  // namespace swarmdial
