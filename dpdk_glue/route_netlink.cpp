#include "route_netlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>

namespace swarmdial {

RouteNetlink::RouteNetlink(bool nonblocking)
    : nl_(mnl_socket_open2(NETLINK_ROUTE, nonblocking ? SOCK_NONBLOCK : 0)),
      buf_(MNL_SOCKET_BUFFER_SIZE) {
  if (nl_ && mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
    mnl_socket_close(nl_);
    nl_ = nullptr;
  }
}

RouteNetlink::~RouteNetlink() {
  if (nl_) mnl_socket_close(nl_);
}

nlmsghdr* RouteNetlink::message(uint16_t type, uint16_t flags, bool ack) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf_.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<uint16_t>(flags | NLM_F_REQUEST | (ack ? NLM_F_ACK : 0));
  nlh->nlmsg_seq = ++seq_;
  return nlh;
}

int RouteNetlink::request(nlmsghdr* nlh) {
  if (!nl_) return -EPROTO;
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return -errno;
  ssize_t n = mnl_socket_recvfrom(nl_, buf_.data(), buf_.size());
  if (n < 0) return -errno;
  if (mnl_cb_run(buf_.data(), static_cast<size_t>(n), seq_, mnl_socket_get_portid(nl_), nullptr,
                 nullptr) < 0)
    return -errno;
  return 0;
}

int RouteNetlink::send(const void* messages, size_t length) {
  if (!nl_) return -EPROTO;
  return mnl_socket_sendto(nl_, messages, length) < 0 ? -errno : 0;
}

uint32_t RouteNetlink::drain_errors() {
  if (!nl_) return 0;
  uint32_t errors = 0;
  for (;;) {
    ssize_t n = recv(mnl_socket_get_fd(nl_), buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n <= 0) return errors;
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf_.data());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_type != NLMSG_ERROR) continue;
      auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error != 0) ++errors;
    }
  }
}

}  // namespace swarmdial
