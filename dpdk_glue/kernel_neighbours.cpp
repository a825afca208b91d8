#include "kernel_neighbours.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

namespace swarmdial {
namespace {

// One RTM_NEWNEIGH with its address and MAC, rounded up: room to keep free.
constexpr size_t kMessageRoom = 64;
constexpr size_t kBatchBytes = 16384;

}  // namespace

KernelNeighbours::KernelNeighbours(const std::string& ifname)
    : nl_(/*nonblocking=*/true), index_(if_nametoindex(ifname.c_str())), batch_(kBatchBytes) {}

void KernelNeighbours::learned(uint32_t ip, const MacAddress& mac) {
  if (!nl_.ok() || index_ == 0) {
    ++failed_;
    return;
  }
  if (used_ + kMessageRoom > batch_.size()) flush();
  // No acknowledgement asked: the kernel still reports an error, which
  // flush() counts.
  nlmsghdr* nlh = mnl_nlmsg_put_header(batch_.data() + used_);
  nlh->nlmsg_type = RTM_NEWNEIGH;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = AF_INET;
  ndm->ndm_ifindex = static_cast<int>(index_);
  // REACHABLE, not PERMANENT: the kernel ages it and re-probes as for any
  // neighbour; the probe's answer comes back through here.
  ndm->ndm_state = NUD_REACHABLE;
  mnl_attr_put_u32(nlh, NDA_DST, htonl(ip));
  mnl_attr_put(nlh, NDA_LLADDR, mac.bytes.size(), mac.bytes.data());
  used_ += NLMSG_ALIGN(nlh->nlmsg_len);
  ++queued_;
}

void KernelNeighbours::flush() {
  if (queued_ == 0) return;
  if (nl_.send(batch_.data(), used_) == 0)
    pushed_ += queued_;
  else
    failed_ += queued_;
  failed_ += nl_.drain_errors();
  used_ = 0;
  queued_ = 0;
}

}  // namespace swarmdial
