#include "kernel_neighbours.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

namespace swarmdial {

KernelNeighbours::KernelNeighbours(const std::string& ifname)
    : nl_(/*nonblocking=*/true), index_(if_nametoindex(ifname.c_str())) {}

void KernelNeighbours::learned(uint32_t ip, const MacAddress& mac) {
  if (!nl_.ok() || index_ == 0) {
    ++failed_;
    return;
  }
  // No acknowledgement asked: the kernel still reports an error, which the
  // drain below counts.
  nlmsghdr* nlh = nl_.message(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, /*ack=*/false);
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = AF_INET;
  ndm->ndm_ifindex = static_cast<int>(index_);
  // REACHABLE, not PERMANENT: the kernel ages it and re-probes as for any
  // neighbour; the probe's answer comes back through here.
  ndm->ndm_state = NUD_REACHABLE;
  mnl_attr_put_u32(nlh, NDA_DST, htonl(ip));
  mnl_attr_put(nlh, NDA_LLADDR, mac.bytes.size(), mac.bytes.data());
  if (nl_.send(nlh) == 0)
    ++pushed_;
  else
    ++failed_;
  failed_ += nl_.drain_errors();
}

}  // namespace swarmdial
