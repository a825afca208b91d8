#pragma once
// The torrent's data on disk: maps pieces to file ranges, verifies every
// piece against its SHA-1 at load (all cores, with a progress line), and
// reads blocks for the peer-wire pool. Only pieces that verified are served.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/peerwire/metainfo.hpp"

namespace swarmdial {

class PieceStore {
 public:
  // Opens the files under data_dir (data_dir/<name> for a single file, or
  // data_dir itself when it is that file). Missing files leave their pieces
  // unverified rather than failing the load.
  PieceStore(const Metainfo& meta, const std::string& data_path);
  ~PieceStore();
  PieceStore(const PieceStore&) = delete;

  using Progress = std::function<void(uint32_t done, uint32_t total)>;
  // Hashes every piece with `threads` threads; returns the indices that failed.
  std::vector<uint32_t> verify(unsigned threads, const Progress& progress);

  // Reads `length` bytes at (piece, begin) into dst. Returns false on a short
  // read (a file shrank under us).
  bool read(uint32_t piece, uint32_t begin, uint32_t length, uint8_t* dst) const;

  const std::vector<uint8_t>& have_bitfield() const { return have_; }
  uint32_t have_count() const { return have_count_; }
  bool have(uint32_t piece) const { return have_[piece / 8] & (0x80 >> (piece % 8)); }
  const Metainfo& meta() const { return meta_; }
  size_t missing_files() const { return missing_files_; }

 private:
  const Metainfo& meta_;
  std::vector<int> fds_;  // one per file, -1 when missing
  size_t missing_files_ = 0;
  std::vector<uint8_t> have_;
  uint32_t have_count_ = 0;
};

}  // namespace swarmdial
