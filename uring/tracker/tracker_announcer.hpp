#pragma once
// Announces one torrent to its trackers for `seed --tracker`, as a coroutine
// on the node's AnnounceService (one thread for every torrent): HTTP through
// Boost.Beast (keep-alive, redirects, limits) and UDP through the sans-I/O
// BEP 15 exchange. BEP 12 tiers with failover and promotion; started, then
// every interval (a little jittered), then stopped at shutdown. Peers go to
// a callback on the service's thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "announce_service.hpp"
#include "engine/tracker/announce.hpp"

namespace swarmdial {

struct AnnouncerOptions {
  std::vector<std::vector<std::string>> tiers;   // URLs, already validated
  AnnounceRequest request;                       // info_hash, peer_id, port, left
  int64_t udp_base_timeout_ns = 15'000'000'000;  // BEP 15 retransmission base
  int udp_max_exponent = 8;
  int64_t http_timeout_ns = 15'000'000'000;
  int64_t retry_base_ns = 15'000'000'000;  // after a whole round failed; doubles to 30 min
  int max_redirects = 5;
  std::function<uint64_t()> uploaded;                          // bytes so far, for the announce
  std::function<void(const std::vector<Endpoint>&)> on_peers;  // on the announcer thread
};

struct TrackerState {
  std::string url;
  uint64_t ok = 0, failed = 0, peers = 0;
  std::string last_error, warning;
  int64_t interval_s = 0;
  bool working = false;            // the last announce to it succeeded
  uint64_t ignored_datagrams = 0;  // UDP replies dropped (wrong id, action, runt)
  std::string last_ignored;
};

class TrackerAnnouncer {
 public:
  // The service must outlive the announcer.
  TrackerAnnouncer(AnnounceService& service, AnnouncerOptions opts);
  ~TrackerAnnouncer();
  void start();
  // Sends `stopped` to the tracker in use (at most `grace_ns`), then joins.
  void stop(int64_t grace_ns = 3'000'000'000);
  // The same without waiting: a node stopping many torrents asks them all
  // first, then joins each (stop()), so the grace periods overlap.
  void request_stop(int64_t grace_ns = 3'000'000'000);
  std::vector<TrackerState> states() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the coroutine until it ends
  bool started_ = false;
  std::future<void> done_;
};

}  // namespace swarmdial
