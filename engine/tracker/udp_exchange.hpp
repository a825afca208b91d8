#pragma once
// One announce to a UDP tracker as a sans-I/O state machine (BEP 15): get a
// connection id (kept for 60 s), send the announce, retransmit after
// 15 * 2^n seconds (n up to 8), ignore datagrams that are not our reply,
// and end with the response or a reason. The caller moves datagrams.
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>

#include "udp_messages.hpp"

namespace swarmdial {

struct UdpExchangeOptions {
  int64_t base_timeout_ns = 15'000'000'000;  // BEP 15's 15 s; lower on a LAN
  int max_exponent = 8;                      // 15 * 2^8 s = 3840 s at most
  int64_t connection_id_ttl_ns = 60'000'000'000;
  bool v6 = false;
};

class UdpAnnounceExchange {
 public:
  enum class State : uint8_t { kIdle, kConnecting, kAnnouncing, kDone, kFailed };

  UdpAnnounceExchange(UdpExchangeOptions opts, uint64_t seed);

  // Starts an announce; a still-valid connection id is reused.
  void begin(const AnnounceRequest& r, int64_t now);
  // A connection id another exchange got from the same tracker (BEP 15 ties
  // it to our address, not to a torrent), so a node announcing thousands of
  // torrents connects once a minute per tracker, not once per torrent.
  void adopt_connection_id(uint64_t id, int64_t obtained_at);
  // The id this exchange holds and when it was obtained, if it has one.
  bool connection_id(uint64_t& id, int64_t& obtained_at) const;
  // The datagram to send now (first send or a retransmission), if any.
  std::optional<std::string> poll(int64_t now);
  // Feeds a datagram from the tracker.
  void on_datagram(std::span<const uint8_t> d, int64_t now);
  // When poll() next has something to do (a retransmission), or INT64_MAX.
  int64_t next_deadline() const;

  State state() const { return state_; }
  const AnnounceResponse& response() const { return response_; }
  const std::string& error() const { return error_; }        // kFailed: why
  bool tracker_said_no() const { return tracker_said_no_; }  // an error reply, not a timeout
  uint64_t ignored() const { return ignored_; }              // datagrams dropped, all-time
  const std::string& last_ignored() const { return last_ignored_; }
  uint64_t retransmits() const { return retransmits_; }

 private:
  void send_current(int64_t now);
  UdpExchangeOptions opts_;
  std::mt19937 rng_;
  State state_ = State::kIdle;
  AnnounceRequest request_;
  AnnounceResponse response_;
  std::string error_, last_ignored_;
  bool tracker_said_no_ = false;
  uint64_t connection_id_ = 0;
  int64_t connection_id_at_ = 0;
  bool have_connection_id_ = false;
  uint32_t tid_ = 0;
  int exponent_ = 0;
  int64_t deadline_ = INT64_MAX;
  bool send_now_ = false;
  uint64_t ignored_ = 0, retransmits_ = 0;
};

}  // namespace swarmdial
