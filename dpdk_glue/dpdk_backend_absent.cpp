// A build without DPDK (meson -Ddpdk=disabled): the dpdk backend refuses.
#include <stdexcept>

#include "dpdk_backend.hpp"

namespace swarmdial {

std::unique_ptr<RunBackend> open_dpdk_backend(const BackendOptions&) {
  throw std::runtime_error(
      "--backend dpdk: this build has no DPDK support (install libdpdk-dev, meson -Ddpdk=enabled)");
}

}  // namespace swarmdial
