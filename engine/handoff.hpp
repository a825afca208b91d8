#pragma once
// An established flow leaving the dialer for its consumer (the BitTorrent
// handshake worker, the --hold keeper, or the peer-wire pool). The receiver
// owns fd from then on.
#include <atomic>
#include <cstdint>

#include "doorbell.hpp"
#include "result_row.hpp"
#include "spsc_queue.hpp"

namespace swarmdial {

struct Handoff {
  int fd = -1;
  ResultRow row;  // the dial result; the consumer completes and emits it
};

// The queue from one shard to its consumer, with the consumer's doorbell
// once it has one (set before or while the shard runs).
class HandoffQueue : public SpscQueue<Handoff> {
 public:
  using SpscQueue<Handoff>::SpscQueue;
  void set_doorbell(Doorbell* d) { doorbell_.store(d, std::memory_order_release); }
  void ring() {
    if (Doorbell* d = doorbell_.load(std::memory_order_acquire)) d->ring();
  }

 private:
  std::atomic<Doorbell*> doorbell_{nullptr};
};

}  // namespace swarmdial
