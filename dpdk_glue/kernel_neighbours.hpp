#pragma once
// On the AF_XDP path the engine resolves its next hops itself, and the XDP
// program hands it the ARP replies for its addresses, so the kernel, which
// sends a handed-off flow's data on the same wire, never sees them. Each
// mapping the engine learns is written into the kernel's neighbour table
// (rtnetlink, a non-blocking socket per shard: no waiting in the loop).
// With on-link targets every attempt resolves a neighbour, so the updates
// are batched: one send per receive burst, not one per reply.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tcp/frame_layout.hpp"
#include "route_netlink.hpp"

namespace swarmdial {

class KernelNeighbours {
 public:
  explicit KernelNeighbours(const std::string& ifname);
  ~KernelNeighbours() { flush(); }
  KernelNeighbours(const KernelNeighbours&) = delete;
  KernelNeighbours& operator=(const KernelNeighbours&) = delete;

  // ip in host order; queued until flush() (or until the batch is full).
  void learned(uint32_t ip, const MacAddress& mac);
  // Sends what is queued. Failures are counted, never fatal: the kernel
  // would still resolve by itself, only slower.
  void flush();
  uint64_t pushed() const { return pushed_; }
  uint64_t failed() const { return failed_; }

 private:
  RouteNetlink nl_;
  unsigned index_;
  std::vector<char> batch_;  // allocated once
  size_t used_ = 0;
  uint32_t queued_ = 0;
  uint64_t pushed_ = 0, failed_ = 0;
};

}  // namespace swarmdial
