#include "bt_handshake.hpp"

#include <cctype>
#include <cstring>

namespace swarmdial {

namespace {
constexpr std::string_view kProtocol = "BitTorrent protocol";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct ClientCode {
  const char* code;
  const char* name;
};
// Azureus-style two-letter codes of clients one meets in real swarms.
constexpr ClientCode kAzureusCodes[] = {
    {"LT", "libtorrent"},   {"lt", "rtorrent"},   {"qB", "qBittorrent"},
    {"TR", "Transmission"}, {"UT", "uTorrent"},   {"UM", "uTorrent Mac"},
    {"BT", "BitTorrent"},   {"DE", "Deluge"},     {"AZ", "Vuze"},
    {"BC", "BitComet"},     {"KT", "KTorrent"},   {"FD", "Free Download Manager"},
    {"SZ", "swarmdial"},    {"WW", "WebTorrent"}, {"XL", "Xunlei"},
    {"BI", "BiglyBT"},
};
}  // namespace

std::optional<InfoHash> parse_info_hash_hex(std::string_view hex) {
  if (hex.size() != 40) return std::nullopt;
  InfoHash out;
  for (size_t i = 0; i < 20; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::array<uint8_t, kBtHandshakeSize> build_bt_handshake(const InfoHash& info_hash,
                                                         const PeerId& peer_id) {
  std::array<uint8_t, kBtHandshakeSize> out{};
  out[0] = static_cast<uint8_t>(kProtocol.size());
  std::memcpy(&out[1], kProtocol.data(), kProtocol.size());
  out[20 + 5] = 0x10;  // BEP 10 extension protocol
  out[20 + 7] = 0x04;  // BEP 6 fast extension
  std::memcpy(&out[28], info_hash.data(), 20);
  std::memcpy(&out[48], peer_id.data(), 20);
  return out;
}

bool begins_bt_handshake(std::span<const uint8_t> bytes) {
  return bytes.size() >= 1 + kProtocol.size() && bytes[0] == kProtocol.size() &&
         std::memcmp(&bytes[1], kProtocol.data(), kProtocol.size()) == 0;
}

std::optional<BtHandshake> parse_bt_handshake(std::span<const uint8_t> bytes) {
  if (bytes.size() != kBtHandshakeSize || bytes[0] != kProtocol.size() ||
      std::memcmp(&bytes[1], kProtocol.data(), kProtocol.size()) != 0)
    return std::nullopt;
  BtHandshake hs;
  std::memcpy(hs.reserved.data(), &bytes[20], 8);
  std::memcpy(hs.info_hash.data(), &bytes[28], 20);
  std::memcpy(hs.peer_id.data(), &bytes[48], 20);
  return hs;
}

std::string client_from_peer_id(const PeerId& id) {
  auto version_char = [](uint8_t c) -> std::string {
    if (std::isdigit(c)) return std::string(1, static_cast<char>(c));
    if (std::isalpha(c)) return std::to_string(std::toupper(c) - 'A' + 10);
    return "?";
  };
  // Azureus style: '-' XX VVVV '-'
  if (id[0] == '-' && id[7] == '-' && std::isalpha(id[1]) && std::isalpha(id[2])) {
    std::string code{static_cast<char>(id[1]), static_cast<char>(id[2])};
    std::string name = code;
    for (const auto& c : kAzureusCodes)
      if (c.name && code == c.code) name = c.name;
    std::string version;
    // The fourth version digit is almost always 0; show it only when set.
    int digits = id[6] == '0' ? 3 : 4;
    for (int i = 0; i < digits; ++i) version += (i ? "." : "") + version_char(id[3 + i]);
    return (name + " " + version).substr(0, 23);
  }
  // Mainline style: 'M' 7-4-3-- (BitTorrent) or 'A2-1-36-0-' (aria2)
  if ((id[0] == 'M' || id[0] == 'A') && std::isdigit(id[1])) {
    std::string name = id[0] == 'M' ? "BitTorrent" : "aria2";
    size_t start = id[0] == 'A' && id[1] == '2' ? 3 : 1;
    std::string version;
    for (size_t i = start; i < 12 && (std::isdigit(id[i]) || id[i] == '-'); ++i)
      version += id[i] == '-' ? '.' : static_cast<char>(id[i]);
    while (!version.empty() && version.back() == '.') version.pop_back();
    return (name + " " + version).substr(0, 23);
  }
  std::string printable;
  for (uint8_t c : id) {
    if (!std::isprint(c) || printable.size() >= 8) break;
    printable += static_cast<char>(c);
  }
  return printable.empty() ? "unknown" : printable;
}

PeerId make_peer_id(uint64_t seed) {
  PeerId id;
  std::memcpy(id.data(), "-SZ0100-", 8);
  const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  for (int i = 8; i < 20; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    id[i] = static_cast<uint8_t>(alphabet[(seed >> 33) % 36]);
  }
  return id;
}

}  // namespace swarmdial
