#pragma once
// One peer-wire connection in seed mode, sans-I/O: bytes in, bytes and
// actions out. BEP 3 messages, BEP 6 fast extension, BEP 10 extension
// handshake. It enforces the protocol's limits and ends a misbehaving peer
// with a recorded reason. Piece data is not copied through here: the I/O
// layer pops validated block requests and sends header + file bytes itself.
#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bt_handshake.hpp"
#include "wire.hpp"

namespace swarmdial {

enum class Disconnect : uint8_t {
  kNone,
  kPeerClosed,
  kHandshakeTimeout,
  kBadHandshake,
  kUnknownInfoHash,
  kSelfConnection,
  kMessageTooLarge,
  kBadBitfield,
  kBadHave,
  kRequestTooLarge,
  kRequestOutOfRange,
  kRequestFlood,
  kBadMessage,
  kBadExtended,
  kIdleTimeout,
  kBothSeeds,
  kIoError,
  kShutdown,
  kPlaintextRefused,  // --encryption require, and the peer spoke plaintext
  kEncryptedRefused,  // --encryption off, and the peer began an MSE handshake
  kBadEncryption,     // an MSE handshake that failed (no sync, bad VC, no common method)
  kTorrentRemoved,    // its torrent stopped being seeded while the run went on
  kCount
};
std::string_view disconnect_name(Disconnect d);

struct BlockRequest {
  uint32_t piece = 0, begin = 0, length = 0;
  bool operator==(const BlockRequest&) const = default;
};

struct SessionConfig {
  InfoHash info_hash{};
  PeerId peer_id{};
  uint32_t num_pieces = 0;
  uint32_t piece_length = 0;
  uint64_t total_length = 0;
  const std::vector<uint8_t>* have = nullptr;  // packed bitfield, MSB first
  uint32_t have_count = 0;
  // Per piece, nonzero while the piece is withheld (its file changed on
  // disk and it has not verified again); may be null.
  const std::atomic<uint8_t>* withheld = nullptr;
  uint32_t reqq = 500;  // most outstanding requests we accept (advertised in BEP 10)
  int64_t handshake_timeout_ns = 10'000'000'000;
  int64_t idle_timeout_ns = 120'000'000'000;
  int64_t keepalive_ns = 60'000'000'000;
  std::string client_name = "swarmdial 0.1.0";
};

class PeerSession {
 public:
  PeerSession(const SessionConfig& cfg, bool outbound, int64_t now_ns);

  // Outbound: our handshake goes first. Call once, after construction.
  void start(std::string& out);
  // Feeds received bytes. Returns false when the session is over (reason()).
  bool on_receive(std::span<const uint8_t> data, int64_t now_ns, std::string& out);
  // Timers: handshake timeout, idle timeout, keep-alives.
  bool on_tick(int64_t now_ns, std::string& out);
  // The choker's decision.
  void set_choked(bool choked, std::string& out);

  // Next validated block to serve, in request order.
  std::optional<BlockRequest> pop_request();
  size_t queued_requests() const { return queue_size_; }
  // The I/O layer sent a block (header + data) or any other bytes.
  void on_sent(uint64_t payload_bytes, int64_t now_ns);

  static void piece_header(const BlockRequest& r, uint8_t out[13]);
  // The I/O layer cannot serve a popped request (its piece changed on disk
  // and is withheld): a fast-extension peer gets a reject (BEP 6) so it
  // asks elsewhere; for any other peer nothing can be said.
  void refuse(const BlockRequest& r, std::string& out) {
    if (peer_fast_) send_reject(r, out);
  }
  // A piece we advertised is withheld: a peer that speaks BEP 54 is told
  // (lt_donthave), so it stops asking; others get their requests refused.
  void on_piece_withheld(uint32_t piece, std::string& out);
  // A withheld piece verified again: HAVE, so peers ask for it again.
  void on_piece_restored(uint32_t piece, std::string& out);

  bool handshake_done() const { return handshake_done_; }
  const SessionConfig& config() const { return cfg_; }
  bool peer_interested() const { return peer_interested_; }
  bool am_choking() const { return am_choking_; }
  bool peer_fast() const { return peer_fast_; }
  bool outbound() const { return outbound_; }
  Disconnect reason() const { return reason_; }
  const std::string& client() const { return client_; }
  uint64_t bytes_uploaded() const { return uploaded_; }
  uint32_t peer_have_count() const { return peer_have_count_; }
  // The peer was interested and then was not: from a seed, a leecher loses
  // interest when it has every piece (clients need not send HAVE to a seed).
  bool peer_lost_interest() const { return peer_lost_interest_; }

 private:
  bool fail(Disconnect d) {
    if (reason_ == Disconnect::kNone) reason_ = d;
    return false;
  }
  bool parse_handshake(std::span<const uint8_t> hs, std::string& out);
  bool handle_message(uint8_t id, std::span<const uint8_t> payload, std::string& out);
  bool handle_request(std::span<const uint8_t> p, std::string& out);
  bool handle_cancel(std::span<const uint8_t> p);
  bool handle_extended(std::span<const uint8_t> p);
  void send_greeting(std::string& out);
  void send_reject(const BlockRequest& r, std::string& out);
  bool have_piece(uint32_t piece) const;
  uint32_t piece_size(uint32_t piece) const;
  size_t max_message() const;
  void note_sent(int64_t now) { last_send_ns_ = now; }

  const SessionConfig& cfg_;
  bool outbound_;
  bool handshake_done_ = false;
  bool sent_handshake_ = false;
  bool am_choking_ = true;
  bool peer_interested_ = false;
  bool peer_lost_interest_ = false;
  bool peer_fast_ = false;
  bool peer_ext_ = false;
  uint8_t peer_donthave_id_ = 0;  // the peer's lt_donthave message id (BEP 54), 0: none
  uint32_t peer_have_count_ = 0;
  std::vector<uint8_t> peer_have_;  // lazily sized to the bitfield
  Disconnect reason_ = Disconnect::kNone;
  std::string client_;
  wire::Framer framer_;
  std::vector<BlockRequest> queue_;  // ring of cfg.reqq requests
  size_t queue_head_ = 0, queue_size_ = 0;
  int64_t created_ns_, last_recv_ns_, last_send_ns_;
  uint64_t uploaded_ = 0;
};

}  // namespace swarmdial
