#include "peer_session.hpp"

#include <cstring>

#include "bencode.hpp"
#include "wire.hpp"

namespace swarmdial {

using namespace wire;

std::string_view disconnect_name(Disconnect d) {
  switch (d) {
    case Disconnect::kNone:
      return "none";
    case Disconnect::kPeerClosed:
      return "peer_closed";
    case Disconnect::kHandshakeTimeout:
      return "handshake_timeout";
    case Disconnect::kBadHandshake:
      return "bad_handshake";
    case Disconnect::kUnknownInfoHash:
      return "unknown_info_hash";
    case Disconnect::kSelfConnection:
      return "self_connection";
    case Disconnect::kMessageTooLarge:
      return "message_too_large";
    case Disconnect::kBadBitfield:
      return "bad_bitfield";
    case Disconnect::kBadHave:
      return "bad_have";
    case Disconnect::kRequestTooLarge:
      return "request_too_large";
    case Disconnect::kRequestOutOfRange:
      return "request_out_of_range";
    case Disconnect::kRequestFlood:
      return "request_flood";
    case Disconnect::kBadMessage:
      return "bad_message";
    case Disconnect::kBadExtended:
      return "bad_extended";
    case Disconnect::kIdleTimeout:
      return "idle_timeout";
    case Disconnect::kBothSeeds:
      return "both_seeds";
    case Disconnect::kIoError:
      return "io_error";
    case Disconnect::kShutdown:
      return "shutdown";
    case Disconnect::kPlaintextRefused:
      return "plaintext_refused";
    case Disconnect::kEncryptedRefused:
      return "encrypted_refused";
    case Disconnect::kBadEncryption:
      return "bad_encryption";
    case Disconnect::kTorrentRemoved:
      return "torrent_removed";
    case Disconnect::kCount:
      break;
  }
  return "?";
}

PeerSession::PeerSession(const SessionConfig& cfg, bool outbound, int64_t now_ns)
    : cfg_(cfg),
      outbound_(outbound),
      created_ns_(now_ns),
      last_recv_ns_(now_ns),
      last_send_ns_(now_ns) {}

void PeerSession::start(std::string& out) {
  if (!outbound_ || sent_handshake_) return;
  auto hs = build_bt_handshake(cfg_.info_hash, cfg_.peer_id);
  out.append(reinterpret_cast<const char*>(hs.data()), hs.size());
  sent_handshake_ = true;
}

size_t PeerSession::max_message() const {
  // A block message, or a whole bitfield, whichever is larger.
  size_t bitfield = 1 + (cfg_.num_pieces + 7) / 8;
  return std::max<size_t>(kMaxBlock + 9, bitfield);
}

bool PeerSession::have_piece(uint32_t piece) const {
  return piece < cfg_.num_pieces && cfg_.have &&
         ((*cfg_.have)[piece / 8] & (0x80 >> (piece % 8))) &&
         !(cfg_.withheld && cfg_.withheld[piece].load(std::memory_order_relaxed));
}

uint32_t PeerSession::piece_size(uint32_t piece) const {
  if (piece + 1 < cfg_.num_pieces) return cfg_.piece_length;
  return static_cast<uint32_t>(cfg_.total_length -
                               uint64_t{cfg_.piece_length} * (cfg_.num_pieces - 1));
}

bool PeerSession::on_receive(std::span<const uint8_t> data, int64_t now, std::string& out) {
  if (reason_ != Disconnect::kNone) return false;
  if (data.empty()) return fail(Disconnect::kPeerClosed);
  last_recv_ns_ = now;
  FrameStatus st = framer_.feed(
      data, max_message(), [&](std::span<const uint8_t> hs) { return parse_handshake(hs, out); },
      [&](uint8_t id, std::span<const uint8_t> p) { return handle_message(id, p, out); });
  if (st == FrameStatus::kTooLarge) return fail(Disconnect::kMessageTooLarge);
  return st == FrameStatus::kOk;
}

bool PeerSession::parse_handshake(std::span<const uint8_t> bytes, std::string& out) {
  auto hs = parse_bt_handshake(bytes);
  if (!hs) return fail(Disconnect::kBadHandshake);
  if (hs->info_hash != cfg_.info_hash) return fail(Disconnect::kUnknownInfoHash);
  if (hs->peer_id == cfg_.peer_id) return fail(Disconnect::kSelfConnection);
  peer_fast_ = hs->reserved[7] & 0x04;
  peer_ext_ = hs->reserved[5] & 0x10;
  client_ = client_from_peer_id(hs->peer_id);
  handshake_done_ = true;
  if (!sent_handshake_) {
    auto ours = build_bt_handshake(cfg_.info_hash, cfg_.peer_id);
    out.append(reinterpret_cast<const char*>(ours.data()), ours.size());
    sent_handshake_ = true;
  }
  send_greeting(out);
  return true;
}

void PeerSession::send_greeting(std::string& out) {
  if (peer_ext_) {
    // d1:md e1:v..4:reqqi..e e  (keys sorted: m, reqq, v)
    std::string ext = "d1:mde4:reqq";
    bencode_int(ext, cfg_.reqq);
    ext += "1:v";
    bencode_string(ext, cfg_.client_name);
    ext += "e";
    message(out, kExtended, static_cast<uint32_t>(ext.size() + 1));
    out.push_back(0);  // extended handshake id
    out += ext;
  }
  uint32_t withheld = 0;
  if (cfg_.withheld)
    for (uint32_t p = 0; p < cfg_.num_pieces; ++p)
      withheld += cfg_.withheld[p].load(std::memory_order_relaxed) != 0;
  bool all = cfg_.have_count == cfg_.num_pieces && withheld == 0;
  if (withheld && cfg_.have) {
    // Rare (a file changed under us): the bitfield leaves withheld pieces out.
    std::string bits(cfg_.have->begin(), cfg_.have->end());
    for (uint32_t p = 0; p < cfg_.num_pieces; ++p)
      if (cfg_.withheld[p].load(std::memory_order_relaxed))
        bits[p / 8] = static_cast<char>(bits[p / 8] & ~(0x80 >> (p % 8)));
    message(out, kBitfield, static_cast<uint32_t>(bits.size()));
    out += bits;
  } else if (peer_fast_ && all) {
    message(out, kHaveAll, 0);
  } else if (peer_fast_ && cfg_.have_count == 0) {
    message(out, kHaveNone, 0);
  } else {
    uint32_t bytes = (cfg_.num_pieces + 7) / 8;
    message(out, kBitfield, bytes);
    if (cfg_.have)
      out.append(reinterpret_cast<const char*>(cfg_.have->data()), bytes);
    else
      out.append(bytes, '\0');
  }
}

bool PeerSession::handle_message(uint8_t id, std::span<const uint8_t> p, std::string& out) {
  switch (id) {
    case kChoke:
    case kUnchoke:
      return p.empty() || fail(Disconnect::kBadMessage);  // a seed ignores being choked
    case kInterested:
      if (!p.empty()) return fail(Disconnect::kBadMessage);
      peer_interested_ = true;
      return true;
    case kNotInterested:
      if (!p.empty()) return fail(Disconnect::kBadMessage);
      if (peer_interested_) peer_lost_interest_ = true;
      peer_interested_ = false;
      return true;
    case kHave: {
      if (p.size() != 4) return fail(Disconnect::kBadMessage);
      uint32_t piece = be32(p.data());
      if (piece >= cfg_.num_pieces) return fail(Disconnect::kBadHave);
      if (peer_have_.empty()) peer_have_.assign((cfg_.num_pieces + 7) / 8, 0);
      uint8_t bit = static_cast<uint8_t>(0x80 >> (piece % 8));
      if (!(peer_have_[piece / 8] & bit)) {
        peer_have_[piece / 8] |= bit;
        ++peer_have_count_;
      }
      return true;
    }
    case kBitfield: {
      uint32_t bytes = (cfg_.num_pieces + 7) / 8;
      // BEP 3 wants it first, but aria2 sends a fresh bitfield after
      // HAVE_NONE once it has pieces; a right-sized late one is tolerated.
      if (p.size() != bytes) return fail(Disconnect::kBadBitfield);
      uint32_t spare = bytes * 8 - cfg_.num_pieces;
      if (spare && (p.back() & ((1u << spare) - 1))) return fail(Disconnect::kBadBitfield);
      peer_have_.assign(p.begin(), p.end());
      peer_have_count_ = 0;
      for (uint8_t b : peer_have_) peer_have_count_ += static_cast<uint32_t>(__builtin_popcount(b));
      if (peer_have_count_ == cfg_.num_pieces && cfg_.have_count == cfg_.num_pieces)
        return fail(Disconnect::kBothSeeds);
      return true;
    }
    case kRequest:
      return handle_request(p, out);
    case kPiece:
      return fail(Disconnect::kBadMessage);  // we never request anything
    case kCancel:
      return handle_cancel(p);
    case kPort:
      return p.size() == 2 || fail(Disconnect::kBadMessage);
    case kSuggest:
    case kAllowedFast:
      return (peer_fast_ && p.size() == 4) || fail(Disconnect::kBadMessage);
    case kRejectRequest:
      return (peer_fast_ && p.size() == 12) || fail(Disconnect::kBadMessage);
    case kHaveAll:
    case kHaveNone:
      // Tolerated late for the same reason as a late bitfield.
      if (!peer_fast_ || !p.empty()) return fail(Disconnect::kBadMessage);
      if (id == kHaveAll) {
        peer_have_count_ = cfg_.num_pieces;
        if (cfg_.have_count == cfg_.num_pieces) return fail(Disconnect::kBothSeeds);
      }
      return true;
    case kExtended:
      return handle_extended(p);
    default:
      return true;  // unknown messages are ignored (BEP 3 forward compatibility)
  }
}

bool PeerSession::handle_request(std::span<const uint8_t> p, std::string& out) {
  if (p.size() != 12) return fail(Disconnect::kBadMessage);
  BlockRequest r{be32(p.data()), be32(p.data() + 4), be32(p.data() + 8)};
  if (r.length > kMaxBlock) return fail(Disconnect::kRequestTooLarge);
  if (r.length == 0 || r.piece >= cfg_.num_pieces ||
      uint64_t{r.begin} + r.length > piece_size(r.piece))
    return fail(Disconnect::kRequestOutOfRange);
  if (am_choking_ || !have_piece(r.piece)) {
    // Requests while choked, or for a piece that failed verification, are
    // refused politely when the peer speaks BEP 6, dropped otherwise.
    if (peer_fast_) send_reject(r, out);
    return true;
  }
  if (queue_size_ >= cfg_.reqq) return fail(Disconnect::kRequestFlood);
  if (queue_.empty()) queue_.resize(cfg_.reqq);  // first request: one allocation for the session
  queue_[(queue_head_ + queue_size_) % queue_.size()] = r;
  ++queue_size_;
  return true;
}

bool PeerSession::handle_cancel(std::span<const uint8_t> p) {
  if (p.size() != 12) return fail(Disconnect::kBadMessage);
  BlockRequest r{be32(p.data()), be32(p.data() + 4), be32(p.data() + 8)};
  for (size_t i = 0; i < queue_size_; ++i) {
    BlockRequest& q = queue_[(queue_head_ + i) % queue_.size()];
    if (q == r) {
      // Shift the rest down to keep request order; queues are short.
      for (size_t j = i; j + 1 < queue_size_; ++j)
        queue_[(queue_head_ + j) % queue_.size()] = queue_[(queue_head_ + j + 1) % queue_.size()];
      --queue_size_;
      return true;
    }
  }
  return true;  // already served: nothing to do
}

bool PeerSession::handle_extended(std::span<const uint8_t> p) {
  if (p.empty()) return fail(Disconnect::kBadExtended);
  if (p[0] != 0) return true;  // extension messages we did not advertise are ignored
  BencodeError err;
  BencodeLimits lim;
  lim.max_size = 64 * 1024;
  lim.max_depth = 8;
  lim.max_tokens = 2048;
  lim.require_sorted_keys = false;  // clients in the wild don't all sort these
  auto doc = BDocument::decode(p.subspan(1), err, lim);
  if (!doc || !doc->root().is_dict()) return fail(Disconnect::kBadExtended);
  if (auto v = doc->root().find_string("v"); v && !v->empty()) {
    client_.assign(v->substr(0, 40));
  }
  if (BNode m = doc->root().dict_find("m"); m && m.is_dict()) {
    auto id = m.find_int("lt_donthave");
    peer_donthave_id_ = id && *id > 0 && *id < 256 ? static_cast<uint8_t>(*id) : 0;
  }
  return true;
}

void PeerSession::on_piece_withheld(uint32_t piece, std::string& out) {
  if (reason_ != Disconnect::kNone || !handshake_done_ || !peer_donthave_id_) return;
  message(out, kExtended, 5);
  out.push_back(static_cast<char>(peer_donthave_id_));
  put32(out, piece);
}

void PeerSession::on_piece_restored(uint32_t piece, std::string& out) {
  if (reason_ != Disconnect::kNone || !handshake_done_) return;
  message(out, kHave, 4);
  put32(out, piece);
}

void PeerSession::send_reject(const BlockRequest& r, std::string& out) {
  message(out, kRejectRequest, 12);
  put32(out, r.piece);
  put32(out, r.begin);
  put32(out, r.length);
}

void PeerSession::set_choked(bool choked, std::string& out) {
  if (reason_ != Disconnect::kNone || !handshake_done_ || choked == am_choking_) return;
  am_choking_ = choked;
  message(out, choked ? kChoke : kUnchoke, 0);
  if (choked) {
    // BEP 6: with the fast extension every pending request is rejected
    // explicitly; without it the peer knows a choke discards them.
    while (queue_size_ > 0) {
      if (peer_fast_) send_reject(queue_[queue_head_], out);
      queue_head_ = (queue_head_ + 1) % queue_.size();
      --queue_size_;
    }
  }
}

std::optional<BlockRequest> PeerSession::pop_request() {
  if (queue_size_ == 0 || am_choking_) return std::nullopt;
  BlockRequest r = queue_[queue_head_];
  queue_head_ = (queue_head_ + 1) % queue_.size();
  --queue_size_;
  return r;
}

void PeerSession::piece_header(const BlockRequest& r, uint8_t out[13]) {
  uint32_t len = 9 + r.length;
  uint32_t words[3] = {r.piece, r.begin, 0};
  out[0] = static_cast<uint8_t>(len >> 24);
  out[1] = static_cast<uint8_t>(len >> 16);
  out[2] = static_cast<uint8_t>(len >> 8);
  out[3] = static_cast<uint8_t>(len);
  out[4] = kPiece;
  for (int w = 0; w < 2; ++w)
    for (int b = 0; b < 4; ++b) out[5 + w * 4 + b] = static_cast<uint8_t>(words[w] >> (24 - 8 * b));
}

void PeerSession::on_sent(uint64_t payload_bytes, int64_t now_ns) {
  uploaded_ += payload_bytes;
  note_sent(now_ns);
}

bool PeerSession::on_tick(int64_t now, std::string& out) {
  if (reason_ != Disconnect::kNone) return false;
  if (!handshake_done_ && now - created_ns_ > cfg_.handshake_timeout_ns)
    return fail(Disconnect::kHandshakeTimeout);
  if (now - last_recv_ns_ > cfg_.idle_timeout_ns) return fail(Disconnect::kIdleTimeout);
  if (handshake_done_ && now - last_send_ns_ > cfg_.keepalive_ns) {
    put32(out, 0);
    note_sent(now);
  }
  return true;
}

}  // namespace swarmdial
