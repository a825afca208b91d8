#pragma once
// Bencode (BEP 3). The decoder builds one flat token array for the whole
// document, libtorrent-bdecode style: no allocation per node, O(1) skipping
// of any subtree, and the exact source bytes of any value (the info-hash is
// the SHA-1 of the info dictionary's own bytes). Limits on size, depth and
// token count bound what a hostile input can cost.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace swarmdial {

struct BencodeLimits {
  size_t max_size = 64 << 20;
  uint32_t max_depth = 64;
  uint32_t max_tokens = 4'000'000;
  // BEP 3: dictionary keys sorted as raw strings, no duplicates.
  bool require_sorted_keys = true;
};

enum class BType : uint8_t { kInt, kString, kList, kDict };

struct BToken {
  BType type;
  uint32_t begin;   // offset of the value's first byte in the source
  uint32_t end;     // one past its last byte (whole encoding, e.g. "4:spam")
  uint32_t next;    // index of the token after this value's subtree
  uint32_t count;   // list items or dict pairs
  int64_t integer;  // kInt value; kString payload offset
};

class BDocument;

// A read-only view of one value in a decoded document.
class BNode {
 public:
  BNode() = default;
  BNode(const BDocument* doc, uint32_t index) : doc_(doc), index_(index) {}
  explicit operator bool() const { return doc_ != nullptr; }

  BType type() const;
  bool is_int() const { return doc_ && type() == BType::kInt; }
  bool is_string() const { return doc_ && type() == BType::kString; }
  bool is_list() const { return doc_ && type() == BType::kList; }
  bool is_dict() const { return doc_ && type() == BType::kDict; }

  int64_t integer() const;
  std::string_view string() const;
  uint32_t size() const;            // list items or dict pairs
  BNode list_at(uint32_t i) const;  // linear in i
  BNode dict_find(std::string_view key) const;
  std::optional<int64_t> find_int(std::string_view key) const;
  std::optional<std::string_view> find_string(std::string_view key) const;
  // Iterate a dict: fn(key, value); return false to stop.
  template <typename Fn>
  void for_each_pair(Fn&& fn) const;
  template <typename Fn>
  void for_each_item(Fn&& fn) const;
  std::span<const uint8_t> raw() const;  // the value's exact encoding

 private:
  const BToken& tok() const;
  const BDocument* doc_ = nullptr;
  uint32_t index_ = 0;
};

struct BencodeError {
  std::string what;
  size_t offset = 0;
};

class BDocument {
 public:
  // The document keeps a view of `bytes`: they must outlive it.
  static std::optional<BDocument> decode(std::span<const uint8_t> bytes, BencodeError& error,
                                         const BencodeLimits& limits = {});
  static std::optional<BDocument> decode(std::string_view bytes, BencodeError& error,
                                         const BencodeLimits& limits = {}) {
    return decode(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
        error, limits);
  }
  BNode root() const { return BNode(this, 0); }
  size_t token_count() const { return tokens_.size(); }

 private:
  friend class BNode;
  std::span<const uint8_t> src_;
  std::vector<BToken> tokens_;
};

template <typename Fn>
void BNode::for_each_pair(Fn&& fn) const {
  if (!is_dict()) return;
  uint32_t i = index_ + 1;
  for (uint32_t n = 0; n < size(); ++n) {
    BNode key(doc_, i);
    uint32_t vi = doc_->tokens_[i].next;
    BNode value(doc_, vi);
    if (!fn(key.string(), value)) return;
    i = doc_->tokens_[vi].next;
  }
}

template <typename Fn>
void BNode::for_each_item(Fn&& fn) const {
  if (!is_list()) return;
  uint32_t i = index_ + 1;
  for (uint32_t n = 0; n < size(); ++n) {
    if (!fn(BNode(doc_, i))) return;
    i = doc_->tokens_[i].next;
  }
}

// Encoding: append to a string. Dict keys must be written in sorted order
// by the caller (every dict swarmdial writes has a handful of fixed keys).
void bencode_int(std::string& out, int64_t v);
void bencode_string(std::string& out, std::string_view s);

}  // namespace swarmdial
