#pragma once
// The default backend: one io_uring per shard. Each attempt is one linked
// chain submitted in a batch: socket -> setsockopt(s) -> [bind] -> connect ->
// link timeout. With direct descriptors (kernel >= 6.11) the chain needs no
// per-attempt syscall at all; older kernels fall back to plain fds created
// with socket(2) and only connect/timeout/close on the ring.
#include <liburing.h>

#include <memory>

#include "engine/dialer.hpp"

namespace swarmdial {

struct UringFeatures {
  bool direct_chain = false;  // SOCKET direct + URING_CMD setsockopt + BIND + FIXED_FD_INSTALL
  bool defer_taskrun = false;
};
UringFeatures probe_uring_features();

// Throws std::runtime_error with a one-line reason when the ring cannot be set up.
std::unique_ptr<Dialer> make_uring_dialer(const DialerOptions& options, bool allow_direct = true);

}  // namespace swarmdial
