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

// The repaired socket (non-blocking, close-on-exec), in two halves, for a
// caller with work between them (the AF_XDP path). begin leaves the socket
// bound, connected and still in repair mode (it already receives the flow's
// packets, and sends nothing); finish turns repair off, after which the
// kernel sends its window probe. Both return the fd or -errno, and close the
// socket on failure. Our timestamp clock continues from flow.ts_now
// (milliseconds, as the kernel's).
int repair_begin(const EstablishedFlow& flow);
int repair_finish(int fd);

}  // namespace swarmdial
