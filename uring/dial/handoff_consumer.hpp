#pragma once
// The consumer of the dialer's handoff queues for `swarmdial dial`: with
// --bt-infohash it does the BitTorrent handshake on each established flow
// (io_uring send/recv with a linked timeout) and records the result and the
// peer's client; with --hold it keeps flows open until exit. It emits the
// final row of every flow it receives.
#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/handoff.hpp"
#include "engine/peerwire/bt_handshake.hpp"
#include "engine/relaxed_counter.hpp"
#include "engine/run_stats.hpp"

namespace swarmdial {

struct HandoffConsumerOptions {
  std::optional<InfoHash> info_hash;  // do the handshake when set
  PeerId peer_id{};
  int64_t bt_timeout_ns = 5'000'000'000;
  bool hold = false;
  size_t max_held = 0;             // fds kept under --hold; beyond it flows are closed
  uint32_t max_concurrent = 4096;  // handshakes in progress at once
};

struct HandoffConsumerStats {
  RelaxedCounter ok, mismatch, timeout, closed, invalid, held, hold_overflow;
  BtCounts bt_counts() const {
    return {ok.get(), mismatch.get(), timeout.get(), closed.get(), invalid.get()};
  }
};

class HandoffConsumer {
 public:
  HandoffConsumer(HandoffConsumerOptions opts, std::vector<HandoffQueue*> inputs,
                  SpscQueue<ResultRow>& rows, HandoffConsumerStats& stats);
  ~HandoffConsumer();

  // Runs until producers_done is set, every input is empty and every
  // handshake has finished; or until abort. Held fds are closed on return.
  void run(const std::atomic<bool>& producers_done, const std::atomic<bool>& abort);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace swarmdial
