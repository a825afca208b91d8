#pragma once
// One final row per target, as shards report it. Fixed size and trivially
// copyable so it travels through SPSC rings without allocation.
#include <cstdint>

#include "endpoint.hpp"
#include "outcome.hpp"

namespace swarmdial {

enum class BtResult : uint8_t { kNone, kOk, kMismatch, kTimeout, kClosed, kInvalid };

struct ResultRow {
  Endpoint target;
  Outcome outcome = Outcome::kError;
  int32_t err = 0;      // errno behind kError
  int64_t rtt_us = -1;  // -1 when there is no round trip (timeout)
  uint32_t attempts = 0;
  uint32_t shard = 0;
  uint32_t tag = 0;   // who asked for the dial (DialTarget::tag)
  uint64_t t_us = 0;  // since the start of the run
  BtResult bt = BtResult::kNone;
  char client[24] = {};  // peer's client, from its peer_id, NUL-terminated
};

}  // namespace swarmdial
