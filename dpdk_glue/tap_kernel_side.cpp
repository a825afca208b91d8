#include "tap_kernel_side.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace swarmdial {

// One rtnetlink socket for all of an object's requests (one per address
// on a big --source pool would otherwise mean one socket each).
class RouteNetlink {
 public:
  RouteNetlink() : nl_(mnl_socket_open(NETLINK_ROUTE)), buf_(MNL_SOCKET_BUFFER_SIZE) {
    if (nl_ && mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
      mnl_socket_close(nl_);
      nl_ = nullptr;
    }
  }
  ~RouteNetlink() {
    if (nl_) mnl_socket_close(nl_);
  }
  RouteNetlink(const RouteNetlink&) = delete;
  RouteNetlink& operator=(const RouteNetlink&) = delete;

  // A fresh message in the shared buffer, to fill and pass to request().
  nlmsghdr* message(uint16_t type, uint16_t flags) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf_.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = static_cast<uint16_t>(flags | NLM_F_REQUEST | NLM_F_ACK);
    nlh->nlmsg_seq = ++seq_;
    return nlh;
  }

  // Sends and waits for the kernel's acknowledgement: 0 or -errno.
  int request(nlmsghdr* nlh) {
    if (!nl_) return -EPROTO;
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return -errno;
    ssize_t n = mnl_socket_recvfrom(nl_, buf_.data(), buf_.size());
    if (n < 0) return -errno;
    if (mnl_cb_run(buf_.data(), static_cast<size_t>(n), seq_, mnl_socket_get_portid(nl_), nullptr,
                   nullptr) < 0)
      return -errno;
    return 0;
  }

 private:
  mnl_socket* nl_;
  std::vector<char> buf_;
  uint32_t seq_ = 0;
};

namespace {
[[noreturn]] void fail(const std::string& what, int err) {
  throw std::runtime_error("exception path: " + what + ": " + std::strerror(-err));
}

}  // namespace

TapKernelSide::TapKernelSide(const std::string& ifname, uint32_t first_ip, uint32_t address_count,
                             uint8_t prefix_len)
    : pool_ip_(first_ip), pool_prefix_(prefix_len) {
  unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) fail("no interface " + ifname, -errno);
  // A table of our own per interface index keeps two runs apart.
  table_ = 0x5d000000u | index;
  RouteNetlink nl;

  {  // up, and no ARP: the engine owns the neighbour protocol on the wire
    nlmsghdr* nlh = nl.message(RTM_NEWLINK, 0);
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = static_cast<int>(index);
    ifi->ifi_flags = IFF_UP | IFF_NOARP;
    ifi->ifi_change = IFF_UP | IFF_NOARP;
    if (int rc = nl.request(nlh); rc < 0) fail("bring up " + ifname, rc);
  }
  for (uint32_t i = 0; i < address_count; ++i) {
    nlmsghdr* nlh = nl.message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = 32;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = index;
    uint32_t ip = htonl(first_ip + i);
    mnl_attr_put_u32(nlh, IFA_LOCAL, ip);
    mnl_attr_put_u32(nlh, IFA_ADDRESS, ip);
    if (int rc = nl.request(nlh); rc < 0) fail("address on " + ifname, rc);
  }
  {  // every destination is on-link through the TAP in our table
    nlmsghdr* nlh = nl.message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 0;
    rtm->rtm_table = RT_TABLE_UNSPEC;
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = RT_SCOPE_LINK;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(nlh, RTA_TABLE, table_);
    mnl_attr_put_u32(nlh, RTA_OIF, index);
    if (int rc = nl.request(nlh); rc < 0) fail("route through " + ifname, rc);
  }
  rule(nl, true);
  rule_added_ = true;
}

TapKernelSide::~TapKernelSide() {
  if (!rule_added_) return;
  RouteNetlink nl;
  rule(nl, false);
}

void TapKernelSide::rule(RouteNetlink& nl, bool add) {
  nlmsghdr* nlh =
      add ? nl.message(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL) : nl.message(RTM_DELRULE, 0);
  auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
  frh->family = AF_INET;
  frh->src_len = pool_prefix_;
  frh->table = RT_TABLE_UNSPEC;
  frh->action = FR_ACT_TO_TBL;
  mnl_attr_put_u32(nlh, FRA_SRC, htonl(pool_ip_));
  mnl_attr_put_u32(nlh, FRA_TABLE, table_);
  mnl_attr_put_u32(nlh, FRA_PRIORITY, 100);
  int rc = nl.request(nlh);
  if (add && rc < 0) fail("source rule", rc);
}

}  // namespace swarmdial
