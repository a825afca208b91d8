#pragma once
// The one interface every connect backend implements (uring, epoll, dpdk).
// A dialer owns the sockets of the slots it was given; it reports a slot as
// complete only once the attempt is final AND its socket is closed or its fd
// is ready to hand off, which is what makes the half-open budget strict.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "endpoint.hpp"
#include "wire_counters.hpp"

namespace swarmdial {

struct DialCompletion {
  uint32_t slot = 0;
  int err = 0;          // 0 established; else errno (ETIMEDOUT: engine timeout)
  int64_t rtt_ns = -1;  // start() to the connect result; -1 when none (timeout)
  int fd = -1;          // established and keep_established: the caller owns it now
};

struct DialerOptions {
  uint32_t shard = 0;             // which shard (the dpdk backend: its queue pair)
  uint32_t half_open = 0;         // the shard's half-open budget: slots 0..half_open-1
  int64_t timeout_ns = 0;         // per attempt
  bool keep_established = false;  // hand established fds over instead of closing them
};

class Dialer {
 public:
  virtual ~Dialer() = default;
  virtual std::string_view name() const = 0;
  // Begins an attempt in a free slot. Work may be queued until submit().
  virtual void start(uint32_t slot, const Endpoint& dst, const IpAddress* src, int64_t now_ns) = 0;
  virtual void submit() = 0;
  // Waits up to wait_ns for completions and fills out (at most out.size()).
  virtual size_t reap(std::span<DialCompletion> out, int64_t wait_ns) = 0;
  // Slots started and not yet reported complete.
  virtual uint32_t in_flight() const = 0;
  // Backends that see packets themselves report their wire counters here;
  // the shard publishes them to its stats after each reap.
  virtual bool wire_counts(WireCounts&) const { return false; }
  // True when handed-off flows depend on this dialer's loop (their packets
  // pass through it): the shard keeps calling reap() after dialing ends.
  virtual bool forwards_for_kernel() const { return false; }
  // The shard's loop has ended: nothing more will be started or reaped.
  virtual void stopped() {}
};

// Makes each shard's dialer on the shard's own thread (a backend's rings and
// queues belong to the thread that uses them).
using DialerFactory = std::function<std::unique_ptr<Dialer>(const DialerOptions&)>;

// TCP_SYNCNT for an engine timeout: the SYN retransmissions (at 1, 3, 7, 15 s
// ... cumulative) that fit inside it, at least 1, so the kernel never keeps
// retrying after the engine has given up.
int syn_retries_for_timeout(int64_t timeout_ns);

}  // namespace swarmdial
