#include "torrent_writer.hpp"

#include "bencode.hpp"

namespace swarmdial {

std::string write_torrent(const TorrentSpec& spec) {
  std::string out = "d";
  // Keys in raw byte order, as BEP 3 requires.
  if (!spec.announce_tiers.empty() && !spec.announce_tiers.front().empty()) {
    bencode_string(out, "announce");
    bencode_string(out, spec.announce_tiers.front().front());
    bencode_string(out, "announce-list");
    out += "l";
    for (const auto& tier : spec.announce_tiers) {
      out += "l";
      for (const auto& url : tier) bencode_string(out, url);
      out += "e";
    }
    out += "e";
  }
  bencode_string(out, "created by");
  bencode_string(out, "swarmdial");
  bencode_string(out, "info");
  out += "d";
  bencode_string(out, "length");
  bencode_int(out, static_cast<int64_t>(spec.length));
  bencode_string(out, "name");
  bencode_string(out, spec.name);
  bencode_string(out, "piece length");
  bencode_int(out, spec.piece_length);
  bencode_string(out, "pieces");
  std::string pieces;
  pieces.reserve(spec.piece_hashes.size() * 20);
  for (const auto& h : spec.piece_hashes)
    pieces.append(reinterpret_cast<const char*>(h.data()), 20);
  bencode_string(out, pieces);
  out += "ee";
  return out;
}

}  // namespace swarmdial
