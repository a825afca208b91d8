#include "udp_exchange.hpp"

namespace swarmdial {

UdpAnnounceExchange::UdpAnnounceExchange(UdpExchangeOptions opts, uint64_t seed)
    : opts_(opts), rng_(static_cast<uint32_t>(seed ^ (seed >> 32))) {}

void UdpAnnounceExchange::begin(const AnnounceRequest& r, int64_t now) {
  request_ = r;
  response_ = {};
  error_.clear();
  tracker_said_no_ = false;
  exponent_ = 0;
  bool valid = have_connection_id_ && now - connection_id_at_ < opts_.connection_id_ttl_ns;
  state_ = valid ? State::kAnnouncing : State::kConnecting;
  send_now_ = true;
}

void UdpAnnounceExchange::adopt_connection_id(uint64_t id, int64_t obtained_at) {
  if (have_connection_id_ && connection_id_at_ >= obtained_at) return;  // ours is newer
  connection_id_ = id;
  connection_id_at_ = obtained_at;
  have_connection_id_ = true;
}

bool UdpAnnounceExchange::connection_id(uint64_t& id, int64_t& obtained_at) const {
  if (!have_connection_id_) return false;
  id = connection_id_;
  obtained_at = connection_id_at_;
  return true;
}

int64_t UdpAnnounceExchange::next_deadline() const {
  if (state_ != State::kConnecting && state_ != State::kAnnouncing) return INT64_MAX;
  return send_now_ ? 0 : deadline_;
}

void UdpAnnounceExchange::send_current(int64_t now) {
  // A fresh random transaction id per send: a late reply to an earlier
  // send cannot be taken for this one.
  tid_ = rng_();
  deadline_ = now + (opts_.base_timeout_ns << exponent_);
  send_now_ = false;
}

std::optional<std::string> UdpAnnounceExchange::poll(int64_t now) {
  if (state_ != State::kConnecting && state_ != State::kAnnouncing) return std::nullopt;
  if (!send_now_) {
    if (now < deadline_) return std::nullopt;
    if (exponent_ >= opts_.max_exponent) {
      state_ = State::kFailed;
      error_ = "no reply after " + std::to_string(exponent_ + 1) + " tries";
      return std::nullopt;
    }
    ++exponent_;
    ++retransmits_;
    // The id may have expired while we waited: get a new one first.
    if (state_ == State::kAnnouncing && now - connection_id_at_ >= opts_.connection_id_ttl_ns)
      state_ = State::kConnecting;
  }
  send_current(now);
  if (state_ == State::kConnecting) return udp_connect_request(tid_);
  return udp_announce_request(connection_id_, tid_, request_);
}

void UdpAnnounceExchange::on_datagram(std::span<const uint8_t> d, int64_t now) {
  if (state_ != State::kConnecting && state_ != State::kAnnouncing) {
    ++ignored_;
    last_ignored_ = "no request in flight";
    return;
  }
  UdpAction expect = state_ == State::kConnecting ? UdpAction::kConnect : UdpAction::kAnnounce;
  UdpReply reply = parse_udp_reply(d, tid_, expect, opts_.v6);
  if (auto* ig = std::get_if<UdpIgnored>(&reply)) {
    ++ignored_;
    last_ignored_ = ig->why;
    return;
  }
  if (auto* f = std::get_if<TrackerFailure>(&reply)) {
    state_ = State::kFailed;
    error_ = "tracker error: " + f->text;
    tracker_said_no_ = true;
    return;
  }
  if (auto* c = std::get_if<UdpConnectReply>(&reply)) {
    connection_id_ = c->connection_id;
    connection_id_at_ = now;
    have_connection_id_ = true;
    state_ = State::kAnnouncing;
    exponent_ = 0;
    send_now_ = true;
    return;
  }
  if (auto* a = std::get_if<AnnounceResponse>(&reply)) {
    response_ = std::move(*a);
    state_ = State::kDone;
  }
}

}  // namespace swarmdial
