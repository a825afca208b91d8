#pragma once
// One peer-wire connection in leech mode, sans-I/O: the downloader behind
// the emulated swarm's leechers. It requests blocks with a bounded pipeline,
// assembles pieces, verifies each against the metainfo's SHA-1 and reports
// completion. Bytes in, bytes out; the caller owns the socket.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "metainfo.hpp"
#include "wire.hpp"

namespace swarmdial {

enum class LeechEnd : uint8_t {
  kNone,
  kComplete,  // every piece verified
  kPeerClosed,
  kBadHandshake,
  kWrongInfoHash,
  kMessageTooLarge,
  kBadMessage,
  kBadPiece,      // a block we never asked for, or outside the torrent
  kTooManyFails,  // the peer keeps sending data that fails SHA-1
};
std::string_view leech_end_name(LeechEnd e);

struct LeechConfig {
  const Metainfo* meta = nullptr;
  PeerId peer_id{};
  uint32_t pipeline = 32;    // outstanding block requests
  uint32_t first_piece = 0;  // where this leecher starts (spreads a swarm's requests)
  uint32_t max_hash_failures = 8;
};

class LeechSession {
 public:
  explicit LeechSession(const LeechConfig& cfg);

  // Our handshake and INTERESTED; either side may speak first.
  void start(std::string& out);
  // Feeds received bytes (empty = the peer closed). Returns false once the
  // session is over: end() says whether it completed or why it failed.
  bool on_receive(std::span<const uint8_t> data, std::string& out);

  LeechEnd end() const { return end_; }
  bool complete() const { return verified_ == cfg_.meta->num_pieces; }
  uint32_t pieces_verified() const { return verified_; }
  uint32_t hash_failures() const { return hash_failures_; }
  uint64_t bytes_verified() const { return bytes_verified_; }
  uint64_t bytes_received() const { return bytes_received_; }
  bool choked() const { return choked_; }
  const std::string& client() const { return client_; }

 private:
  // A piece being assembled: its bytes and each block's state.
  struct Slot {
    uint32_t piece = UINT32_MAX;
    uint32_t blocks_left = 0;
    std::vector<uint8_t> data;
    std::vector<uint8_t> block_state;  // 0 missing, 1 requested, 2 received
  };
  enum : uint8_t { kMissing = 0, kRequested = 1, kReceived = 2 };
  enum : uint8_t { kTodo = 0, kInSlot = 1, kDone = 2 };

  bool finish(LeechEnd e) {
    if (end_ == LeechEnd::kNone) end_ = e;
    return false;
  }
  bool handle_handshake(std::span<const uint8_t> hs);
  bool handle_message(uint8_t id, std::span<const uint8_t> p);
  bool handle_piece(std::span<const uint8_t> p);
  void request_missing(Slot& s, std::string& out);
  void forget_requests();
  void fill_pipeline(std::string& out);
  Slot* slot_for_next_piece();
  void verify(Slot& s);
  size_t max_message() const;

  const LeechConfig& cfg_;
  wire::Framer framer_;
  bool peer_fast_ = false;
  bool choked_ = true;
  std::vector<uint8_t> peer_has_;     // one byte per piece, filled from bitfield/have
  std::vector<uint8_t> piece_state_;  // one byte per piece: kTodo, kInSlot, kDone
  std::vector<Slot> slots_;
  uint32_t next_piece_ = 0;  // next piece to start, cycling from first_piece
  uint32_t outstanding_ = 0;
  uint32_t verified_ = 0;
  uint32_t hash_failures_ = 0;
  uint64_t bytes_verified_ = 0;
  uint64_t bytes_received_ = 0;
  LeechEnd end_ = LeechEnd::kNone;
  std::string client_;
};

}  // namespace swarmdial
