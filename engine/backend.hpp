#pragma once

namespace swarmdial {

// Which dialer a run uses (DESIGN "Backends").
enum class Backend { kUring, kEpoll, kDpdk };

inline const char* backend_name(Backend b) {
  switch (b) {
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
