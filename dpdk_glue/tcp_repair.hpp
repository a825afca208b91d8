#pragma once
// Turns a handshake the engine completed in userspace into an ordinary
// kernel socket with TCP_REPAIR, so the same consumers (the peer-wire
// worker pool, --hold, --bt-infohash) serve it. The kernel must see the
// flow's later packets (the exception path's job) on an interface that
// holds the local address.
#include <string>

#include "engine/tcp/handshake_engine.hpp"

namespace swarmdial {

// Whether this process may repair sockets (CAP_NET_ADMIN, a kernel with
// TCP_REPAIR). On false, `why` says what failed.
bool tcp_repair_available(std::string& why);

// The repaired socket (non-blocking, close-on-exec), or -errno. Our
// timestamp clock continues from flow.ts_now (milliseconds, as the kernel's).
int repair_established(const EstablishedFlow& flow);

}  // namespace swarmdial
