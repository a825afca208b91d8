#include "dialer_factory.hpp"

#include <stdexcept>

#include "epoll_dialer.hpp"
#include "uring_dialer.hpp"

namespace swarmdial {

std::unique_ptr<Dialer> make_dialer(Backend backend, const DialerOptions& options) {
  switch (backend) {
    case Backend::kUring:
      return make_uring_dialer(options);
    case Backend::kEpoll:
      return make_epoll_dialer(options);
    case Backend::kDpdk:
      break;
  }
  throw std::runtime_error("--backend dpdk: this build has no DPDK support (meson -Ddpdk=enabled)");
}

std::string backend_name(Backend backend) {
  switch (backend) {
    case Backend::kUring:
      return "uring";
    case Backend::kEpoll:
      return "epoll";
    case Backend::kDpdk:
      return "dpdk";
  }
  return "?";
}

}  // namespace swarmdial
