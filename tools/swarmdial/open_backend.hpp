#pragma once
// The one switch over --backend: each backend opens itself.
#include <memory>

#include "engine/run_backend.hpp"

namespace swarmdial {

// Throws UsageError (a value the backend cannot honour) or std::runtime_error.
std::unique_ptr<RunBackend> open_backend(const BackendOptions& options);

}  // namespace swarmdial
