#include "load_resolve.hpp"

#include <netdb.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace swarmdial {

sockaddr_storage resolve_tracker(const TrackerUrl& u, bool udp, socklen_t& len) {
  addrinfo hints{};
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(u.host.c_str(), std::to_string(u.port).c_str(), &hints, &res) != 0 || !res)
    throw std::runtime_error(u.text + ": cannot resolve " + u.host);
  sockaddr_storage sa{};
  std::memcpy(&sa, res->ai_addr, res->ai_addrlen);
  len = res->ai_addrlen;
  freeaddrinfo(res);
  return sa;
}

}  // namespace swarmdial
