#pragma once
// An established flow leaving the dialer for its consumer (the BitTorrent
// handshake worker, the --hold keeper, or the peer-wire pool). The receiver
// owns fd from then on.
#include <cstdint>

#include "result_row.hpp"
#include "spsc_queue.hpp"

namespace swarmdial {

struct Handoff {
  int fd = -1;
  ResultRow row;  // the dial result; the consumer completes and emits it
};

using HandoffQueue = SpscQueue<Handoff>;

}  // namespace swarmdial
