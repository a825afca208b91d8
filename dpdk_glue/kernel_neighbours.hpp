#pragma once
// On the AF_XDP path the engine resolves its next hops itself, and the XDP
// program hands it the ARP replies for its addresses, so the kernel, which
// sends a handed-off flow's data on the same wire, never sees them. Each
// mapping the engine learns is written into the kernel's neighbour table
// (rtnetlink, a non-blocking socket per shard: no waiting in the loop).
#include <cstdint>
#include <string>

#include "engine/tcp/frame_layout.hpp"
#include "route_netlink.hpp"

namespace swarmdial {

class KernelNeighbours {
 public:
  explicit KernelNeighbours(const std::string& ifname);
  // ip in host order. Failures are counted, never fatal: the kernel would
  // still resolve by itself, only slower.
  void learned(uint32_t ip, const MacAddress& mac);
  uint64_t pushed() const { return pushed_; }
  uint64_t failed() const { return failed_; }

 private:
  RouteNetlink nl_;
  unsigned index_;
  uint64_t pushed_ = 0, failed_ = 0;
};

}  // namespace swarmdial
