#pragma once
// The kernel-socket backends: `uring` (the default) and `epoll` (the
// baseline every benchmark compares against). Opening one sets the
// open-files limit the run needs.
#include <memory>

#include "engine/run_backend.hpp"

namespace swarmdial {

// Throws UsageError when the descriptors the budget needs do not fit.
std::unique_ptr<RunBackend> open_kernel_backend(const BackendOptions& options);

}  // namespace swarmdial
