// A build without DPDK (meson -Ddpdk=disabled): the dpdk backend refuses.
#include <stdexcept>

#include "dpdk_backend.hpp"

namespace swarmdial {

std::unique_ptr<RunBackend> open_dpdk_backend(const BackendOptions&) {
  throw std::runtime_error(
      "--backend dpdk: this build has no DPDK support (install libdpdk-dev, meson -Ddpdk=enabled)");
}

std::vector<std::string> clean_dpdk_leftovers(bool, std::vector<std::string>& notes) {
  notes = {"this build has no DPDK backend, so no run of it left anything"};
  return {};
}

}  // namespace swarmdial
