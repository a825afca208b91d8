#pragma once
// The 68-byte BitTorrent handshake (BEP 3), sans-I/O: build ours, parse
// theirs, and name the peer's client from its peer_id.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace swarmdial {

constexpr size_t kBtHandshakeSize = 68;
using InfoHash = std::array<uint8_t, 20>;
using PeerId = std::array<uint8_t, 20>;

std::optional<InfoHash> parse_info_hash_hex(std::string_view hex);

// Reserved bits: BEP 6 fast extension and BEP 10 extension protocol.
std::array<uint8_t, kBtHandshakeSize> build_bt_handshake(const InfoHash& info_hash,
                                                         const PeerId& peer_id);

struct BtHandshake {
  std::array<uint8_t, 8> reserved;
  InfoHash info_hash;
  PeerId peer_id;
};

// nullopt when the bytes are not a BitTorrent handshake (wrong pstrlen or
// protocol string). Needs exactly kBtHandshakeSize bytes.
std::optional<BtHandshake> parse_bt_handshake(std::span<const uint8_t> bytes);
// Whether bytes (20 or more) open with the protocol string, as a
// handshake's first bytes do.
bool begins_bt_handshake(std::span<const uint8_t> bytes);

// "-LT2090-..." -> "libtorrent 2.0.9"; "M7-4-3--" -> "BitTorrent 7.4.3";
// unknown styles -> the printable prefix of the id. At most 23 characters.
std::string client_from_peer_id(const PeerId& peer_id);

// Our own peer_id, Azureus style: "-SZ0100-" + 12 random bytes. ("SD"
// would read as Xunlei to libtorrent and get us banned by anti-leech filters.)
PeerId make_peer_id(uint64_t seed);

}  // namespace swarmdial
