#include "leech_session.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

namespace swarmdial {

using namespace wire;

std::string_view leech_end_name(LeechEnd e) {
  switch (e) {
    case LeechEnd::kNone:
      return "none";
    case LeechEnd::kComplete:
      return "complete";
    case LeechEnd::kPeerClosed:
      return "peer_closed";
    case LeechEnd::kBadHandshake:
      return "bad_handshake";
    case LeechEnd::kWrongInfoHash:
      return "wrong_info_hash";
    case LeechEnd::kMessageTooLarge:
      return "message_too_large";
    case LeechEnd::kBadMessage:
      return "bad_message";
    case LeechEnd::kBadPiece:
      return "bad_piece";
    case LeechEnd::kTooManyFails:
      return "too_many_hash_failures";
  }
  return "?";
}

LeechSession::LeechSession(const LeechConfig& cfg) : cfg_(cfg) {
  const Metainfo& m = *cfg_.meta;
  peer_has_.assign(m.num_pieces, 0);
  piece_state_.assign(m.num_pieces, kTodo);
  next_piece_ = m.num_pieces ? cfg_.first_piece % m.num_pieces : 0;
  // Enough pieces in flight to keep the whole pipeline busy, plus one.
  uint64_t bytes = uint64_t{std::max(1u, cfg_.pipeline)} * kMaxBlock;
  size_t n = static_cast<size_t>((bytes + m.piece_length - 1) / std::max(1u, m.piece_length)) + 1;
  slots_.resize(std::min<size_t>(n, m.num_pieces ? m.num_pieces : 1));
}

void LeechSession::start(std::string& out) {
  auto hs = build_bt_handshake(cfg_.meta->info_hash, cfg_.peer_id);
  out.append(reinterpret_cast<const char*>(hs.data()), hs.size());
  message(out, kInterested, 0);
}

size_t LeechSession::max_message() const {
  size_t bitfield = 1 + (cfg_.meta->num_pieces + 7) / 8;
  return std::max<size_t>(kMaxBlock + 9, bitfield);
}

bool LeechSession::on_receive(std::span<const uint8_t> data, std::string& out) {
  if (end_ != LeechEnd::kNone) return false;
  if (data.empty()) return finish(LeechEnd::kPeerClosed);
  FrameStatus st = framer_.feed(
      data, max_message(), [&](std::span<const uint8_t> hs) { return handle_handshake(hs); },
      [&](uint8_t id, std::span<const uint8_t> p) { return handle_message(id, p); });
  if (st == FrameStatus::kTooLarge) return finish(LeechEnd::kMessageTooLarge);
  if (st == FrameStatus::kStopped) return false;
  if (complete()) {
    message(out, kNotInterested, 0);
    return finish(LeechEnd::kComplete);
  }
  fill_pipeline(out);
  return true;
}

bool LeechSession::handle_handshake(std::span<const uint8_t> bytes) {
  auto hs = parse_bt_handshake(bytes);
  if (!hs) return finish(LeechEnd::kBadHandshake);
  if (hs->info_hash != cfg_.meta->info_hash) return finish(LeechEnd::kWrongInfoHash);
  peer_fast_ = hs->reserved[7] & 0x04;
  client_ = client_from_peer_id(hs->peer_id);
  return true;
}

bool LeechSession::handle_message(uint8_t id, std::span<const uint8_t> p) {
  const uint32_t n = cfg_.meta->num_pieces;
  switch (id) {
    case kChoke:
      if (!p.empty()) return finish(LeechEnd::kBadMessage);
      choked_ = true;
      // Without BEP 6 a choke silently discards our requests; with it the
      // seeder rejects each one explicitly.
      if (!peer_fast_) forget_requests();
      return true;
    case kUnchoke:
      if (!p.empty()) return finish(LeechEnd::kBadMessage);
      choked_ = false;
      return true;
    case kHave: {
      if (p.size() != 4 || be32(p.data()) >= n) return finish(LeechEnd::kBadMessage);
      peer_has_[be32(p.data())] = 1;
      return true;
    }
    case kBitfield: {
      if (p.size() != (n + 7) / 8) return finish(LeechEnd::kBadMessage);
      for (uint32_t i = 0; i < n; ++i) peer_has_[i] = (p[i / 8] >> (7 - i % 8)) & 1;
      return true;
    }
    case kHaveAll:
      if (!peer_fast_ || !p.empty()) return finish(LeechEnd::kBadMessage);
      std::fill(peer_has_.begin(), peer_has_.end(), 1);
      return true;
    case kHaveNone:
      return (peer_fast_ && p.empty()) || finish(LeechEnd::kBadMessage);
    case kPiece:
      return handle_piece(p);
    case kRejectRequest: {
      if (!peer_fast_ || p.size() != 12) return finish(LeechEnd::kBadMessage);
      uint32_t piece = be32(p.data()), begin = be32(p.data() + 4);
      for (Slot& s : slots_) {
        if (s.piece != piece || begin % kMaxBlock) continue;
        uint32_t b = begin / kMaxBlock;
        if (b < s.block_state.size() && s.block_state[b] == kRequested) {
          s.block_state[b] = kMissing;
          --outstanding_;
        }
      }
      return true;
    }
    case kInterested:
    case kNotInterested:
    case kRequest:  // we have nothing to serve; a leecher in this emulator only downloads
    case kCancel:
    case kPort:
    case kSuggest:
    case kAllowedFast:
    case kExtended:
    default:
      return true;
  }
}

bool LeechSession::handle_piece(std::span<const uint8_t> p) {
  if (p.size() < 8) return finish(LeechEnd::kBadMessage);
  uint32_t piece = be32(p.data()), begin = be32(p.data() + 4);
  std::span<const uint8_t> block = p.subspan(8);
  const Metainfo& m = *cfg_.meta;
  if (piece >= m.num_pieces || begin % kMaxBlock ||
      uint64_t{begin} + block.size() > m.piece_size(piece))
    return finish(LeechEnd::kBadPiece);
  uint32_t b = begin / kMaxBlock;
  uint32_t expect = std::min<uint32_t>(kMaxBlock, m.piece_size(piece) - begin);
  if (block.size() != expect) return finish(LeechEnd::kBadPiece);
  bytes_received_ += block.size();
  for (Slot& s : slots_) {
    if (s.piece != piece) continue;
    if (s.block_state[b] == kReceived) return true;  // a duplicate after a re-request
    if (s.block_state[b] == kRequested) --outstanding_;
    s.block_state[b] = kReceived;
    std::memcpy(s.data.data() + begin, block.data(), block.size());
    if (--s.blocks_left == 0) verify(s);
    return hash_failures_ <= cfg_.max_hash_failures || finish(LeechEnd::kTooManyFails);
  }
  return true;  // a late block for a piece we no longer track: harmless
}

void LeechSession::verify(Slot& s) {
  uint32_t size = cfg_.meta->piece_size(s.piece);
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1(s.data.data(), size, digest);
  if (std::memcmp(digest, cfg_.meta->piece_hashes[s.piece].data(), sizeof digest) == 0) {
    piece_state_[s.piece] = kDone;
    ++verified_;
    bytes_verified_ += size;
  } else {
    piece_state_[s.piece] = kTodo;  // fetched again on a later pass
    ++hash_failures_;
  }
  s.piece = UINT32_MAX;
}

void LeechSession::forget_requests() {
  for (Slot& s : slots_)
    for (auto& st : s.block_state)
      if (st == kRequested) st = kMissing;
  outstanding_ = 0;
}

LeechSession::Slot* LeechSession::slot_for_next_piece() {
  Slot* free_slot = nullptr;
  for (Slot& s : slots_)
    if (s.piece == UINT32_MAX) {
      free_slot = &s;
      break;
    }
  if (!free_slot) return nullptr;
  const Metainfo& m = *cfg_.meta;
  for (uint32_t i = 0; i < m.num_pieces; ++i) {
    uint32_t piece = (next_piece_ + i) % m.num_pieces;
    if (piece_state_[piece] != kTodo || !peer_has_[piece]) continue;
    next_piece_ = (piece + 1) % m.num_pieces;
    piece_state_[piece] = kInSlot;
    uint32_t size = m.piece_size(piece);
    uint32_t blocks = (size + kMaxBlock - 1) / kMaxBlock;
    free_slot->piece = piece;
    free_slot->blocks_left = blocks;
    free_slot->data.resize(m.piece_length);  // reused across pieces: one allocation per slot
    free_slot->block_state.assign(blocks, kMissing);
    return free_slot;
  }
  return nullptr;
}

void LeechSession::request_missing(Slot& s, std::string& out) {
  const Metainfo& m = *cfg_.meta;
  for (uint32_t b = 0; b < s.block_state.size() && outstanding_ < cfg_.pipeline; ++b) {
    if (s.block_state[b] != kMissing) continue;
    uint32_t begin = b * kMaxBlock;
    message(out, kRequest, 12);
    put32(out, s.piece);
    put32(out, begin);
    put32(out, std::min<uint32_t>(kMaxBlock, m.piece_size(s.piece) - begin));
    s.block_state[b] = kRequested;
    ++outstanding_;
  }
}

void LeechSession::fill_pipeline(std::string& out) {
  if (choked_) return;
  for (Slot& s : slots_)
    if (s.piece != UINT32_MAX) request_missing(s, out);
  while (outstanding_ < cfg_.pipeline) {
    Slot* s = slot_for_next_piece();
    if (!s) break;
    request_missing(*s, out);
  }
}

}  // namespace swarmdial
