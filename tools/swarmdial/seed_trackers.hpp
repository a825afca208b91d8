#pragma once
// `seed --tracker`: the announcer for a seeding run, plugged into its hooks.
// Peers from the trackers are deduplicated against what is already dialled,
// stripped of our own address, and fed to the shards while they run.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "seed_run.hpp"
#include "uring/tracker/announce_service.hpp"
#include "uring/tracker/tracker_announcer.hpp"

namespace swarmdial {

class SeedTrackers {
 public:
  // The tiers come from the --tracker flags ("torrent": the torrent's own
  // announce-list; URLs this build cannot use are skipped with a note).
  // tag: the torrent's index in the run, given to the peers it finds.
  // service: the node's announce loop, shared by every torrent; it must
  // outlive this.
  SeedTrackers(AnnounceService& service, const SeedConfig& cfg, const Metainfo& meta,
               uint32_t pieces_held, const PeerId& peer_id, const std::vector<Endpoint>& dial_list,
               uint32_t tag = 0);
  bool any() const { return !tiers_.empty(); }
  // Starts every torrent's announcing once the run is up; announces
  // `stopped` before it ends. Chains onto what the hooks already do.
  // all(): the torrents' trackers seeded now (torrents come and go).
  static void install(std::function<std::vector<SeedTrackers*>()> all, SeedHooks& hooks);
  // A torrent added while the run goes announces from now on.
  void start_late(PeerInbox& inbox, uint16_t listen_port);
  // A torrent removed while the run goes: `stopped` to each tracker that
  // has it, within the grace.
  void stop_now(int64_t grace_ns);
  // " trackers 1/2 ok, 40 peers", for the status line.
  std::string status_suffix() const;
  std::vector<TrackerState> states() const;
  uint64_t peers_new() const { return peers_new_.load(); }

 private:
  using Key = std::pair<std::array<uint8_t, 17>, uint16_t>;
  static Key key(const Endpoint& e);
  void start(PeerInbox& inbox);

  AnnounceService& service_;
  const SeedConfig& cfg_;
  const Metainfo& meta_;
  uint32_t pieces_held_;
  uint32_t tag_;
  PeerId peer_id_;
  std::vector<std::vector<std::string>> tiers_;
  std::set<Key> known_;  // for peers_new; the announce service's thread only, once started
  uint16_t listen_port_ = 0;
  std::atomic<uint64_t> peers_new_{0};
  std::unique_ptr<TrackerAnnouncer> announcer_;   // set once by start(), on the main thread
  std::atomic<TrackerAnnouncer*> live_{nullptr};  // announcer_, for the other threads
};

}  // namespace swarmdial
