#pragma once
// The portable fallback and benchmark baseline: what BitTorrent clients do
// today. Non-blocking connect(), EPOLLOUT, then SO_ERROR.
#include <memory>

#include "engine/dialer.hpp"

namespace swarmdial {

std::unique_ptr<Dialer> make_epoll_dialer(const DialerOptions& options);

}  // namespace swarmdial
