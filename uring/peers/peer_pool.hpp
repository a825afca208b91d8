#pragma once
// The peer-wire worker pool: W threads, each with its own io_uring loop
// (multishot accept on a SO_REUSEPORT listener, multishot receive into a
// provided-buffer ring, sends of header + piece bytes read from the store).
// Flows arrive from the dialer shards' handoff queues (outbound) and from the
// listeners (inbound, with their own admission control: they never touch the
// half-open budget).
#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/dial_target.hpp"
#include "engine/endpoint.hpp"
#include "engine/handoff.hpp"
#include "engine/peerwire/mse_handshake.hpp"
#include "engine/peerwire/peer_session.hpp"
#include "engine/redial_planner.hpp"
#include "engine/relaxed_counter.hpp"
#include "engine/shared_pacer.hpp"
#include "engine/spsc_queue.hpp"
#include "eventfd_doorbell.hpp"
#include "piece_store.hpp"

namespace swarmdial {

struct InfoHashHasher {
  size_t operator()(const InfoHash& h) const {
    size_t v;
    std::memcpy(&v, h.data(), sizeof v);  // already uniformly distributed
    return v;
  }
};

struct PoolOptions {
  uint32_t workers = 1;
  std::optional<Endpoint> listen;
  uint32_t max_peers = 1000;
  double inbound_rate = 0;  // accepts/s over all workers; 0 = unlimited
  double upload_limit = 0;  // bytes/s over all workers; 0 = unlimited
  uint32_t unchoke_slots = 16;
  bool zero_copy = false;  // IORING_OP_SEND_ZC for piece data
  // MSE/PE: inbound peers may speak it (prefer), must (require) or must
  // not (off). Outbound: always under require; under prefer plaintext first
  // and MSE after a peer turned a handshake away (see README).
  EncryptionPolicy encryption = EncryptionPolicy::kPrefer;
  // Torrents the pool can hold at once (slots); 0 = the ones it starts with.
  // More room lets torrents be added while it runs.
  uint32_t torrent_slots = 0;
};

// Per torrent, written by one worker each.
struct TorrentCounters {
  RelaxedCounter peers_served, bytes_up, pieces_served;
};

// Written by one worker each; summed by readers.
struct alignas(64) WorkerStats {
  RelaxedCounter peers_outbound, peers_inbound;  // connected now
  RelaxedCounter inbound_accepted, inbound_rejected_full, inbound_rejected_rate;
  RelaxedCounter inbound_accept_failed_fds;  // accept() hit EMFILE/ENFILE
  RelaxedCounter requests_withheld;          // for a piece that changed on disk
  RelaxedCounter peers_served;               // sessions that completed a handshake
  RelaxedCounter peers_encrypted;            // ... of them over an RC4 stream (MSE/PE)
  RelaxedCounter zero_copy_sends;            // IORING_OP_SEND_ZC sends the kernel released
  RelaxedCounter bytes_up, blocks_served, pieces_served;
  std::array<RelaxedCounter, static_cast<size_t>(Disconnect::kCount)> disconnects;
  RelaxedCounter ends_unreported;  // the ended-session queue was full
  std::vector<TorrentCounters> torrents;
};

// An outbound session that ended, for the run's re-dial planner.
struct OutboundEnd {
  Endpoint peer;
  uint32_t torrent = 0;  // the dial's tag
  SessionEnd end;
};

// One torrent the pool serves. Outbound flows name theirs by the dial's tag
// (its slot); inbound peers by the info-hash they ask for.
struct PoolTorrent {
  const PieceStore* store = nullptr;
  SessionConfig session;
};

// What the workers serve, published whole when a torrent comes or goes
// (read-copy-update): a worker takes the new view between two loop passes,
// so the hot path reads a plain table with no lock.
struct PoolTorrentView {
  uint64_t version = 0;
  std::vector<const PoolTorrent*> slots;  // null: no torrent there
  std::unordered_map<InfoHash, uint32_t, InfoHashHasher> by_hash;
  std::unique_ptr<MseSkeys> skeys;
  uint32_t first = UINT32_MAX;  // a served slot, for a peer whose handshake names none
};

struct TorrentTotals {
  uint64_t peers_served = 0, bytes_up = 0, pieces_served = 0;
};

struct PoolTotals {
  uint64_t peers_outbound = 0, peers_inbound = 0, inbound_accepted = 0, inbound_rejected_full = 0,
           inbound_rejected_rate = 0, inbound_accept_failed_fds = 0, requests_withheld = 0,
           peers_served = 0, peers_encrypted = 0, zero_copy_sends = 0, bytes_up = 0,
           blocks_served = 0, pieces_served = 0, ends_unreported = 0;
  std::array<uint64_t, static_cast<size_t>(Disconnect::kCount)> disconnects{};
};

class PeerPool {
 public:
  // outbound_inputs[i] is consumed by worker i % workers.
  PeerPool(PoolOptions opts, std::vector<PoolTorrent> torrents,
           std::vector<HandoffQueue*> outbound_inputs);
  ~PeerPool();

  // Binds the listeners and starts the workers; throws std::runtime_error.
  void start();
  // Serves a torrent in a free slot from the workers' next pass; its
  // counters start at zero. The store must outlive its removal.
  void add_torrent(uint32_t slot, PoolTorrent t);
  // Stops serving a slot: each worker closes its peers (counted as
  // torrent_removed). Returns a ticket for removed().
  uint64_t remove_torrent(uint32_t slot);
  // True once no worker holds anything of what was removed by that ticket:
  // its store may go and its slot be used again. The thread that starts and
  // stops the pool calls it.
  bool removed(uint64_t ticket);
  uint32_t slots() const { return static_cast<uint32_t>(owned_.size()); }
  // Closes every connection and joins the workers.
  void stop();
  PoolTotals totals() const;
  std::vector<TorrentTotals> torrent_totals() const;
  uint16_t listen_port() const { return listen_port_; }
  // Outbound sessions that ended, oldest first per worker. One consumer.
  std::optional<OutboundEnd> pop_ended();

 private:
  class Worker;
  PoolOptions opts_;
  void publish();  // under view_mu_
  std::shared_ptr<const PoolTorrentView> view() const;

  std::vector<std::unique_ptr<PoolTorrent>> owned_;  // by slot; under view_mu_
  // Removed, until every worker has let go of them.
  std::vector<std::pair<uint64_t, std::unique_ptr<PoolTorrent>>> retired_;
  mutable std::mutex view_mu_;
  std::shared_ptr<const PoolTorrentView> view_;  // under view_mu_
  std::atomic<uint64_t> version_{0};             // view_->version, for the workers to poll
  // Per worker: the newest view it took whose removals it has finished.
  std::unique_ptr<std::atomic<uint64_t>[]> acked_;
  std::vector<HandoffQueue*> inputs_;
  // One per worker, rung by the shards feeding it and by stop(). Owned
  // here, not by the workers: a shard may still hand a flow off (and
  // ring) after the workers are gone, until the run joins the shards.
  std::vector<std::unique_ptr<EventfdDoorbell>> bells_;
  std::vector<WorkerStats> stats_;
  static constexpr size_t kEndedQueueSize = 1 << 14;
  std::vector<std::unique_ptr<SpscQueue<OutboundEnd>>> ended_;  // one per worker
  size_t next_ended_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> connected_{0};
  std::unique_ptr<SharedPacer> inbound_pacer_, upload_pacer_;  // global limits, all workers
  uint16_t listen_port_ = 0;
};

}  // namespace swarmdial
