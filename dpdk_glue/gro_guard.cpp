#include "gro_guard.hpp"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace swarmdial {
namespace {

// ETHTOOL_GGRO / ETHTOOL_SGRO on ifname: 0 or -errno.
int gro(const std::string& ifname, uint32_t cmd, uint32_t& value) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  ethtool_value v{};
  v.cmd = cmd;
  v.data = value;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&v);
  int rc = ioctl(fd, SIOCETHTOOL, &ifr) == 0 ? 0 : -errno;
  close(fd);
  value = v.data;
  return rc;
}

}  // namespace

GroGuard::GroGuard(const std::string& ifname) : ifname_(ifname) {
  uint32_t on = 0;
  if (gro(ifname, ETHTOOL_GGRO, on) != 0 || on == 0) return;  // off, or no GRO to speak of
  uint32_t off = 0;
  if (int rc = gro(ifname, ETHTOOL_SGRO, off); rc != 0)
    throw std::runtime_error("exception path: cannot turn GRO off on " + ifname + ": " +
                             std::strerror(-rc));
  turned_off_ = true;
}

std::string GroGuard::undo_leftover(const std::string& ifname) {
  uint32_t on = 1;
  int rc = gro(ifname, ETHTOOL_SGRO, on);
  return rc == 0 ? "GRO back on " + ifname
                 : "GRO on " + ifname + " not restored: " + std::strerror(-rc);
}

GroGuard::~GroGuard() {
  if (!turned_off_) return;
  uint32_t on = 1;
  gro(ifname_, ETHTOOL_SGRO, on);
}

}  // namespace swarmdial
