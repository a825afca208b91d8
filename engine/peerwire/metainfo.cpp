#include "metainfo.hpp"

#include <openssl/sha.h>

#include <algorithm>

#include "bencode.hpp"

namespace swarmdial {

bool is_safe_path_component(std::string_view c) {
  if (c.empty() || c == "." || c == "..") return false;
  for (char ch : c)
    if (ch == '/' || ch == '\\' || ch == '\0') return false;
  return true;
}

std::string info_hash_hex(const InfoHash& h) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : h) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::variant<Metainfo, std::string> parse_metainfo(std::string_view bytes,
                                                   const MetainfoLimits& limits) {
  if (bytes.size() > limits.max_torrent_bytes)
    return std::string("torrent file larger than 64 MiB");
  BencodeError err;
  BencodeLimits blim;
  blim.max_size = limits.max_torrent_bytes;
  auto doc = BDocument::decode(bytes, err, blim);
  if (!doc) return "bencode: " + err.what + " at byte " + std::to_string(err.offset);
  BNode root = doc->root();
  if (!root.is_dict()) return std::string("not a dictionary");
  BNode info = root.dict_find("info");
  if (!info.is_dict()) return std::string("missing info dictionary");

  Metainfo m;
  auto raw = info.raw();
  SHA1(raw.data(), raw.size(), m.info_hash.data());

  auto name = info.find_string("name");
  if (!name || !is_safe_path_component(*name)) return std::string("missing or unsafe name");
  m.name = std::string(*name);
  auto piece_length = info.find_int("piece length");
  if (!piece_length || *piece_length < 16384 || *piece_length > (64 << 20))
    return std::string("piece length must be between 16 KiB and 64 MiB");
  m.piece_length = static_cast<uint32_t>(*piece_length);

  if (auto length = info.find_int("length")) {
    if (*length < 0 || static_cast<uint64_t>(*length) > limits.max_total_length)
      return std::string("bad length");
    m.files.push_back({m.name, static_cast<uint64_t>(*length), 0});
    m.total_length = static_cast<uint64_t>(*length);
  } else {
    BNode files = info.dict_find("files");
    if (!files.is_list() || files.size() == 0) return std::string("neither length nor files");
    if (files.size() > limits.max_files) return std::string("too many files");
    m.multi_file = true;
    std::string problem;
    files.for_each_item([&](BNode f) {
      auto len = f.find_int("length");
      BNode path = f.dict_find("path");
      if (!len || *len < 0 || !path.is_list() || path.size() == 0) {
        problem = "file entry without length or path";
        return false;
      }
      std::string joined;
      path.for_each_item([&](BNode c) {
        if (!c.is_string() || !is_safe_path_component(c.string())) {
          problem = "unsafe path component '" + std::string(c.string()) + "'";
          return false;
        }
        if (!joined.empty()) joined += '/';
        joined += c.string();
        return true;
      });
      if (!problem.empty()) return false;
      if (joined.size() > limits.max_path_bytes) {
        problem = "path too long";
        return false;
      }
      auto attr = f.find_string("attr");
      bool pad = attr && attr->find('p') != std::string_view::npos;
      m.files.push_back({m.name + "/" + joined, static_cast<uint64_t>(*len), m.total_length, pad});
      m.total_length += static_cast<uint64_t>(*len);
      if (m.total_length > limits.max_total_length) {
        problem = "torrent larger than 1 PiB";
        return false;
      }
      return true;
    });
    if (!problem.empty()) return problem;
  }
  if (m.total_length == 0) return std::string("torrent has no data");
  uint64_t pieces = (m.total_length + m.piece_length - 1) / m.piece_length;
  auto hashes = info.find_string("pieces");
  if (!hashes || hashes->size() != pieces * 20)
    return "pieces holds " + std::to_string(hashes ? hashes->size() : 0) + " bytes, expected " +
           std::to_string(pieces * 20);
  m.num_pieces = static_cast<uint32_t>(pieces);
  m.piece_hashes.resize(pieces);
  for (uint64_t i = 0; i < pieces; ++i)
    std::copy_n(hashes->data() + i * 20, 20, reinterpret_cast<char*>(m.piece_hashes[i].data()));

  if (BNode list = root.dict_find("announce-list"); list.is_list()) {
    list.for_each_item([&](BNode tier) {
      std::vector<std::string> urls;
      tier.for_each_item([&](BNode u) {
        if (u.is_string() && !u.string().empty()) urls.emplace_back(u.string());
        return true;
      });
      if (!urls.empty()) m.announce_tiers.push_back(std::move(urls));
      return true;
    });
  }
  if (m.announce_tiers.empty())
    if (auto a = root.find_string("announce"); a && !a->empty())
      m.announce_tiers.push_back({std::string(*a)});
  return m;
}

}  // namespace swarmdial
