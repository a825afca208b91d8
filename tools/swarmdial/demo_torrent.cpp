#include "demo_torrent.hpp"

#include <openssl/sha.h>

#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <vector>

#include "engine/peerwire/torrent_writer.hpp"

namespace swarmdial {

DemoTorrent make_demo_torrent(const std::string& dir, uint64_t size, uint32_t piece_length,
                              uint64_t seed) {
  DemoTorrent t;
  t.data_path = dir + "/swarmdial-demo.bin";
  t.torrent_path = dir + "/swarmdial-demo.torrent";
  TorrentSpec spec;
  spec.name = "swarmdial-demo.bin";
  spec.piece_length = piece_length;
  spec.length = size;
  std::ofstream data(t.data_path, std::ios::binary | std::ios::trunc);
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> piece(piece_length / sizeof(uint64_t) + 1);
  for (uint64_t off = 0; off < size; off += piece_length) {
    for (auto& w : piece) w = rng();
    auto n = static_cast<size_t>(std::min<uint64_t>(piece_length, size - off));
    const auto* bytes = reinterpret_cast<const uint8_t*>(piece.data());
    data.write(reinterpret_cast<const char*>(bytes), static_cast<std::streamsize>(n));
    std::array<uint8_t, 20> h;
    SHA1(bytes, n, h.data());
    spec.piece_hashes.push_back(h);
  }
  data.close();
  if (!data) throw std::runtime_error(t.data_path + ": write failed");
  std::string torrent = write_torrent(spec);
  std::ofstream out(t.torrent_path, std::ios::binary | std::ios::trunc);
  out << torrent;
  out.close();
  if (!out) throw std::runtime_error(t.torrent_path + ": write failed");
  auto parsed = parse_metainfo(torrent);
  if (auto* err = std::get_if<std::string>(&parsed))
    throw std::runtime_error("the demo torrent does not parse: " + *err);
  t.meta = std::get<Metainfo>(std::move(parsed));
  return t;
}

}  // namespace swarmdial
