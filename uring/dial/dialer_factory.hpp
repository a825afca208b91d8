#pragma once
// Picks the Dialer implementation for --backend.
#include <memory>
#include <string>

#include "engine/backend.hpp"
#include "engine/dialer.hpp"

namespace swarmdial {

// Throws std::runtime_error when the backend can't run here.
std::unique_ptr<Dialer> make_dialer(Backend backend, const DialerOptions& options);
std::string backend_name(Backend backend);

}  // namespace swarmdial
