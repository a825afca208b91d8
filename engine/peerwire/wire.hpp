#pragma once
// Peer-wire framing shared by the seeding and leeching sessions: message
// ids, big-endian helpers, and a framer that splits a byte stream into the
// handshake and length-prefixed messages (BEP 3).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bt_handshake.hpp"

namespace swarmdial {

// The block size every client uses and the largest request we serve.
constexpr uint32_t kMaxBlock = 16 * 1024;

}  // namespace swarmdial

namespace swarmdial::wire {

enum Msg : uint8_t {
  kChoke = 0,
  kUnchoke = 1,
  kInterested = 2,
  kNotInterested = 3,
  kHave = 4,
  kBitfield = 5,
  kRequest = 6,
  kPiece = 7,
  kCancel = 8,
  kPort = 9,
  kSuggest = 13,
  kHaveAll = 14,
  kHaveNone = 15,
  kRejectRequest = 16,
  kAllowedFast = 17,
  kExtended = 20,
};

inline uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline void put32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}
// Appends a message header: length (payload + id) and id.
inline void message(std::string& out, uint8_t id, uint32_t payload_len) {
  put32(out, payload_len + 1);
  out.push_back(static_cast<char>(id));
}

enum class FrameStatus { kOk, kTooLarge, kStopped };

// Complete messages are handed out in place; only a trailing partial one is
// copied, so a steady stream of small messages costs no copies, and the
// carried bytes never exceed one message (bounded by max_message).
class Framer {
 public:
  explicit Framer(bool expect_handshake = true) : expect_handshake_(expect_handshake) {}

  // on_handshake(span of 68 bytes) -> bool; on_message(id, payload) -> bool.
  // A false from either stops the feed (kStopped). Keep-alives are skipped.
  template <typename OnHandshake, typename OnMessage>
  FrameStatus feed(std::span<const uint8_t> data, size_t max_message, OnHandshake&& on_handshake,
                   OnMessage&& on_message) {
    std::span<const uint8_t> in = data;
    if (!pending_.empty()) {
      pending_.insert(pending_.end(), data.begin(), data.end());
      in = pending_;
    }
    size_t pos = 0;
    FrameStatus status = FrameStatus::kOk;
    for (;;) {
      std::span<const uint8_t> rest = in.subspan(pos);
      if (expect_handshake_) {
        if (rest.size() < kBtHandshakeSize) break;
        pos += kBtHandshakeSize;
        expect_handshake_ = false;
        if (!on_handshake(rest.first(kBtHandshakeSize))) {
          status = FrameStatus::kStopped;
          break;
        }
        continue;
      }
      if (rest.size() < 4) break;
      uint32_t len = be32(rest.data());
      if (len > max_message) {
        status = FrameStatus::kTooLarge;
        break;
      }
      if (rest.size() < 4 + size_t{len}) break;
      pos += 4 + size_t{len};
      if (len > 0 && !on_message(rest[4], rest.subspan(5, len - 1))) {
        status = FrameStatus::kStopped;
        break;
      }
    }
    if (status != FrameStatus::kOk) return status;
    if (pending_.empty()) {
      if (pos < in.size()) pending_.assign(in.begin() + static_cast<long>(pos), in.end());
    } else {
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(pos));
    }
    return status;
  }

 private:
  bool expect_handshake_;
  std::vector<uint8_t> pending_;
};

}  // namespace swarmdial::wire
