#include "kernel_side.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "route_netlink.hpp"

namespace swarmdial {
namespace {

[[noreturn]] void fail(const std::string& what, int err) {
  throw std::runtime_error("exception path: " + what + ": " + std::strerror(-err));
}

// An address on the interface: 0, -EEXIST when it was already there, or -errno.
int address(RouteNetlink& nl, unsigned index, uint32_t ip, bool add) {
  nlmsghdr* nlh =
      add ? nl.message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL) : nl.message(RTM_DELADDR, 0);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = 32;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(ip));
  mnl_attr_put_u32(nlh, IFA_ADDRESS, htonl(ip));
  return nl.request(nlh);
}

}  // namespace

KernelSide::KernelSide(const std::string& ifname, uint32_t first_ip, uint32_t address_count,
                       uint8_t prefix_len, bool arp_off)
    : pool_ip_(first_ip), pool_prefix_(prefix_len) {
  index_ = if_nametoindex(ifname.c_str());
  if (index_ == 0) fail("no interface " + ifname, -errno);
  // A table of our own per interface index keeps two runs apart.
  table_ = 0x5d000000u | index_;
  RouteNetlink nl;
  try {
    {  // up; on a TAP also no ARP: the engine owns the neighbour protocol there
      nlmsghdr* nlh = nl.message(RTM_NEWLINK, 0);
      auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
      ifi->ifi_family = AF_UNSPEC;
      ifi->ifi_index = static_cast<int>(index_);
      ifi->ifi_flags = IFF_UP | (arp_off ? IFF_NOARP : 0);
      ifi->ifi_change = IFF_UP | (arp_off ? IFF_NOARP : 0);
      if (int rc = nl.request(nlh); rc < 0) fail("bring up " + ifname, rc);
    }
    for (uint32_t i = 0; i < address_count; ++i) {
      int rc = address(nl, index_, first_ip + i, true);
      if (rc == 0) added_.push_back(first_ip + i);
      if (rc < 0 && rc != -EEXIST) fail("address on " + ifname, rc);
    }
    route(nl, true);
    route_added_ = true;
    rule(nl, true);
    rule_added_ = true;
  } catch (...) {
    undo(nl);
    throw;
  }
}

KernelSide::~KernelSide() {
  RouteNetlink nl;
  undo(nl);
}

void KernelSide::undo(RouteNetlink& nl) {
  if (rule_added_) rule(nl, false);
  if (route_added_) route(nl, false);
  for (uint32_t ip : added_) address(nl, index_, ip, false);
  rule_added_ = route_added_ = false;
  added_.clear();
}

nlohmann::json KernelSide::leftover() const {
  return {{"kind", "kernel_side"},  {"ifindex", index_}, {"pool_ip", pool_ip_},
          {"prefix", pool_prefix_}, {"table", table_},   {"addresses", added_}};
}

std::string KernelSide::undo_leftover(const nlohmann::json& e) {
  KernelSide k;
  k.index_ = e.at("ifindex").get<unsigned>();
  k.pool_ip_ = e.at("pool_ip").get<uint32_t>();
  k.pool_prefix_ = e.at("prefix").get<uint8_t>();
  k.table_ = e.at("table").get<uint32_t>();
  k.added_ = e.at("addresses").get<std::vector<uint32_t>>();
  k.rule_added_ = k.route_added_ = true;
  size_t n = k.added_.size();
  RouteNetlink nl;
  k.undo(nl);
  // An interface that went away (a TAP) took its addresses and routes along;
  // the source rule is what outlives it.
  return "source rule to table " + std::to_string(k.table_) + ", its route and " +
         std::to_string(n) + " address(es) on interface " + std::to_string(k.index_);
}

void KernelSide::route(RouteNetlink& nl, bool add) {
  // Every destination is on-link through the interface, in our table.
  nlmsghdr* nlh =
      add ? nl.message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE) : nl.message(RTM_DELROUTE, 0);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = RT_TABLE_UNSPEC;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_LINK;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put_u32(nlh, RTA_TABLE, table_);
  mnl_attr_put_u32(nlh, RTA_OIF, index_);
  int rc = nl.request(nlh);
  if (add && rc < 0) fail("route through the interface", rc);
}

void KernelSide::rule(RouteNetlink& nl, bool add) {
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
