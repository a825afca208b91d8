#include "resume_data.hpp"

#include <algorithm>

#include "bencode.hpp"

namespace swarmdial {

std::string encode_resume(const ResumeData& r) {
  std::string out = "d5:filesl";
  for (const auto& f : r.files) {
    out += 'l';
    bencode_int(out, f.size);
    bencode_int(out, f.mtime_ns);
    out += 'e';
  }
  out += "e4:have";
  bencode_string(out, {reinterpret_cast<const char*>(r.have.data()), r.have.size()});
  out += "9:info-hash";
  bencode_string(out, {reinterpret_cast<const char*>(r.info_hash.data()), r.info_hash.size()});
  out += "10:num-pieces";
  bencode_int(out, r.num_pieces);
  out += "12:piece-length";
  bencode_int(out, r.piece_length);
  out += "7:versioni1ee";
  return out;
}

std::variant<ResumeData, std::string> decode_resume(std::string_view bytes, const Metainfo& meta) {
  // What a resume file for this torrent can hold at most: a few dozen bytes
  // a file, the bitfield, a header. Anything bigger or deeper is not one.
  BencodeLimits limits;
  limits.max_size = 256 + meta.files.size() * 48 + (size_t{meta.num_pieces} + 7) / 8;
  limits.max_depth = 3;
  limits.max_tokens = static_cast<uint32_t>(16 + meta.files.size() * 3);
  BencodeError err;
  auto doc = BDocument::decode(bytes, err, limits);
  if (!doc) return "not a resume file: " + err.what + " at byte " + std::to_string(err.offset);
  BNode root = doc->root();
  if (!root.is_dict()) return "not a resume file: not a dictionary";
  if (root.find_int("version") != 1) return "unknown version";
  auto ih = root.find_string("info-hash");
  if (!ih || ih->size() != meta.info_hash.size() ||
      !std::equal(ih->begin(), ih->end(), meta.info_hash.begin(),
                  [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; }))
    return "saved for another torrent";
  if (root.find_int("num-pieces") != int64_t{meta.num_pieces} ||
      root.find_int("piece-length") != int64_t{meta.piece_length})
    return "saved with another piece geometry";
  ResumeData r;
  r.info_hash = meta.info_hash;
  r.num_pieces = meta.num_pieces;
  r.piece_length = meta.piece_length;
  auto have = root.find_string("have");
  if (!have || have->size() != (size_t{meta.num_pieces} + 7) / 8)
    return "bitfield of the wrong length";
  r.have.assign(have->begin(), have->end());
  BNode files = root.dict_find("files");
  if (!files.is_list() || files.size() != meta.files.size()) return "another file count";
  bool ok = true;
  files.for_each_item([&](BNode f) {
    BNode size = f.is_list() && f.size() == 2 ? f.list_at(0) : BNode();
    BNode mtime = size ? f.list_at(1) : BNode();
    if (!size.is_int() || !mtime.is_int() || size.integer() < -1) return ok = false;
    r.files.push_back({size.integer(), mtime.integer()});
    return true;
  });
  if (!ok) return "a file entry is not [size, mtime]";
  return r;
}

std::vector<uint8_t> pieces_unchanged(const Metainfo& meta, const ResumeData& saved,
                                      std::span<const ResumeFileStat> now) {
  std::vector<uint8_t> out(meta.num_pieces, 1);
  if (meta.piece_length == 0) return out;
  for (size_t i = 0; i < meta.files.size(); ++i) {
    const TorrentFile& f = meta.files[i];
    if (f.pad || f.length == 0) continue;
    bool same =
        i < saved.files.size() && i < now.size() && saved.files[i] == now[i] && now[i].size >= 0;
    if (same) continue;
    uint64_t first = f.offset / meta.piece_length;
    uint64_t last =
        std::min<uint64_t>((f.offset + f.length - 1) / meta.piece_length, meta.num_pieces - 1);
    for (uint64_t p = first; p <= last; ++p) out[p] = 0;
  }
  return out;
}

}  // namespace swarmdial
