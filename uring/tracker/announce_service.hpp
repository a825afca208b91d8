#pragma once
// The announces of a whole node on one thread: every torrent's announcer is
// a coroutine on this service's Boost.Asio loop, not a thread of its own, so
// a node seeding thousands of torrents runs one announce thread. They share
// what a real client shares between torrents: the admission caps (at most
// `per_tracker` announces in flight to one tracker, `total` over all), BEP 15
// connection ids per tracker address (valid a minute, not tied to a torrent)
// and HTTP keep-alive connections per host.
#include <cstdint>
#include <memory>
#include <thread>

#include "engine/tracker/announce_gate.hpp"

namespace swarmdial {

struct AnnounceServiceStats {
  uint64_t queued = 0;        // waiting for a slot now
  uint64_t in_flight = 0;     // now
  uint64_t started = 0;       // all-time
  uint64_t late = 0;          // all-time: started more than late_after_ns after due
  uint64_t udp_connects = 0;  // BEP 15 connect exchanges sent (the rest reused an id)
};

class AnnounceService {
 public:
  explicit AnnounceService(AnnounceLimits limits = {});
  // Every announcer must have stopped first.
  ~AnnounceService();
  AnnounceServiceStats stats() const;

  struct Impl;  // the loop and what the announcers share; tracker_announcer.cpp
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace swarmdial
