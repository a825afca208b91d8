#pragma once
// Shared by the peer-wire fuzzers: after the 68-byte handshake, what a
// session sent must be whole messages, each a 4-byte length and a body of
// at most 1 MiB; anything else aborts (libFuzzer reports it).
#include <cstdint>
#include <cstdlib>
#include <string>

namespace swarmdial::testing_support {

inline void check_framing(const std::string& out, size_t from) {
  size_t at = from;
  while (at + 4 <= out.size()) {
    uint32_t len = (uint32_t(uint8_t(out[at])) << 24) | (uint32_t(uint8_t(out[at + 1])) << 16) |
                   (uint32_t(uint8_t(out[at + 2])) << 8) | uint8_t(out[at + 3]);
    if (len > (1u << 20)) std::abort();
    at += 4 + len;
  }
  if (at != out.size()) std::abort();
}

}  // namespace swarmdial::testing_support
