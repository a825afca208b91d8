#pragma once
// Fast resume: which pieces a seeder verified, with each file's size and
// mtime at the time, so a restart hashes only the pieces of files that
// changed (libtorrent keeps the same in its bencoded resume data). Sans-I/O:
// bytes in and out; the seeder reads and writes the file.
//
// Encoding (bencode, keys sorted): files = [[size, mtime_ns], ...] in the
// torrent's file order (pad files [-1, 0]), have = the bitfield, info-hash,
// num-pieces, piece-length, version = 1.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "metainfo.hpp"

namespace swarmdial {

struct ResumeFileStat {
  int64_t size = -1;  // -1: missing (or a pad file, never on disk)
  int64_t mtime_ns = 0;
  bool operator==(const ResumeFileStat&) const = default;
};

struct ResumeData {
  InfoHash info_hash{};
  uint32_t num_pieces = 0;
  uint32_t piece_length = 0;
  std::vector<ResumeFileStat> files;
  std::vector<uint8_t> have;  // (num_pieces + 7) / 8 bytes, MSB first
};

std::string encode_resume(const ResumeData& r);

// The resume data, or a one-line reason it cannot be used for `meta`: not
// bencode, over the size, depth or token limits, another torrent, other
// piece geometry or file count, a bitfield of the wrong length.
std::variant<ResumeData, std::string> decode_resume(std::string_view bytes, const Metainfo& meta);

// One byte per piece: 1 when every file it touches has the size and mtime
// it had when saved, so its saved bit stands; 0 when it must be hashed.
// A file missing then and now is not "unchanged": its pieces are hashed
// (and fail), so data that appears is found.
std::vector<uint8_t> pieces_unchanged(const Metainfo& meta, const ResumeData& saved,
                                      std::span<const ResumeFileStat> now);

}  // namespace swarmdial
