#include "open_backend.hpp"

#include "dpdk_glue/dpdk_backend.hpp"
#include "uring/dial/kernel_backend.hpp"

namespace swarmdial {

std::unique_ptr<RunBackend> open_backend(const BackendOptions& options) {
  if (options.kind == Backend::kDpdk) return open_dpdk_backend(options);
  return open_kernel_backend(options);
}

}  // namespace swarmdial
