#pragma once

namespace swarmdial {

// Which dialer a run uses (DESIGN "Backends").
enum class Backend { kUring, kEpoll, kDpdk };

}  // namespace swarmdial
