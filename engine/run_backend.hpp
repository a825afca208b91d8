#pragma once
// What a run needs from the backend it dials through, and the plain options
// a backend is opened with. Each backend opens itself (uring/dial/
// kernel_backend, dpdk_glue/dpdk_backend) and answers for its own limits:
// the shard count it can drive, the descriptors it needs, the source pool.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend.hpp"
#include "dialer.hpp"
#include "endpoint.hpp"

namespace swarmdial {

struct BackendOptions {
  Backend kind = Backend::kUring;
  uint32_t shards = 1;
  bool shards_given = false;  // dpdk: without it, the port's queue count decides
  uint32_t half_open = 64;    // per shard
  std::vector<IpAddress> sources;
  std::string dpdk_args;             // dpdk: EAL arguments
  std::optional<IpAddress> gateway;  // dpdk: next hop for every SYN
  // Established flows go on to a consumer as kernel sockets (--hold,
  // --bt-infohash, seeding); dpdk then needs its exception path.
  bool handoff = false;
  // Descriptors the rest of the run needs at least (peers, held flows), and
  // the flags that make it need them, for the error when they do not fit.
  uint64_t consumer_fds = 0;
  std::string consumer_fds_why;
};

class RunBackend {
 public:
  virtual ~RunBackend() = default;
  virtual DialerFactory factory() = 0;
  virtual uint32_t shards() const = 0;
  // The pool the shards choose source addresses from (round robin). Empty
  // when the dialer owns its addresses (dpdk) or the kernel chooses.
  virtual std::vector<IpAddress> shard_sources() const = 0;
  // Descriptors left for consumers once the dialer's share is set aside.
  virtual uint64_t spare_fds() const = 0;
};

}  // namespace swarmdial
