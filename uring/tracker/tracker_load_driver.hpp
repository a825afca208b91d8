#pragma once
// The `tracker-load` generator: one thread, one epoll loop, non-blocking UDP
// sockets (each with its own BEP 15 connection id, renewed before 60 s) and
// HTTP/1.1 keep-alive connections (responses parsed by Boost.Beast). Requests
// leave on the open-loop timetable; each one's latency runs from its
// scheduled time, so queueing behind a slow tracker is measured, not hidden.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/latency_histogram.hpp"
#include "engine/relaxed_counter.hpp"
#include "engine/tracker/load_plan.hpp"
#include "tracker_load_options.hpp"

namespace swarmdial {

enum class LoadError : uint8_t {
  kTimeout,       // no answer within --timeout of the scheduled time
  kTrackerError,  // UDP action 3 or an HTTP "failure reason"
  kBadReply,      // a reply we could not parse
  kHttpStatus,    // HTTP status other than 200
  kConnection,    // HTTP connection refused or lost with a request on it
  kSendFailed,    // the kernel refused the datagram or bytes
  kOverload,      // more requests in flight than the generator tracks
  kCount
};
std::string_view load_error_name(LoadError e);

// Written by the generator thread only; read by the status line.
struct LoadCounters {
  RelaxedCounter due;  // requests whose time came (sent, or failed to go)
  RelaxedCounter sent, ok, udp_sent, http_sent, udp_connects, http_connects, stray_replies;
  RelaxedCounter udp_gso_sends;  // sends that carried several requests (UDP_SEGMENT)
  // By LoadKind (announce, scrape, connect).
  std::array<RelaxedCounter, 3> kind_sent, kind_ok;
  RelaxedCounter scrape_hashes;    // info-hashes asked for in scrapes sent
  RelaxedCounter peers_received;   // peer records in valid announce replies
  RelaxedCounter peers6_received;  // ... of which IPv6
  // By the family of the peer a request came from (IPv4, IPv6).
  std::array<RelaxedCounter, 2> family_sent, family_ok;
  RelaxedCounter peers_withheld;  // valid announce replies with no peers from a swarm of others
  RelaxedCounter interval_min, interval_max;  // seconds, over valid announce replies (0: none yet)
  std::array<RelaxedCounter, static_cast<size_t>(LoadError::kCount)> errors;
  LatencyHistogram latency;   // scheduled time -> reply, µs
  LatencyHistogram send_lag;  // scheduled time -> sent, µs: the generator's own delay
};

struct LoadResult {
  double duration_s = 0;  // first scheduled request to the last reply or timeout
  double cpu_s = 0;       // the generator thread's user + system time
  std::string fatal;      // set when the run could not start (no tracker reachable)
  // --reannounce interval: started announces, later ones (retries
  // included), and failures scheduled again.
  uint64_t joined = 0, reannounces = 0, retries = 0;
};

class TrackerLoadDriver {
 public:
  TrackerLoadDriver(const TrackerLoadOptions& cfg, LoadCounters& counters);
  ~TrackerLoadDriver();
  TrackerLoadDriver(const TrackerLoadDriver&) = delete;
  TrackerLoadDriver& operator=(const TrackerLoadDriver&) = delete;
  // Runs the whole load on the calling thread; returns early on `stop`.
  LoadResult run(const std::atomic<bool>& stop, const std::atomic<bool>& abort);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace swarmdial
