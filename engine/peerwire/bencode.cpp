#include "bencode.hpp"

#include <fmt/format.h>

#include <cstring>

namespace swarmdial {

namespace {

class Decoder {
 public:
  Decoder(std::span<const uint8_t> src, const BencodeLimits& limits, std::vector<BToken>& out,
          BencodeError& err)
      : s_(src), lim_(limits), toks_(out), err_(err) {}

  bool run() {
    if (s_.size() > lim_.max_size) return fail("input larger than the size limit", 0);
    if (s_.empty()) return fail("empty input", 0);
    // Every value takes at least 2 bytes except single-digit... "0:" is 2,
    // "i0e" 3, so tokens <= size/2 + 1: one reservation, no growth.
    toks_.reserve(std::min<size_t>(lim_.max_tokens, s_.size() / 2 + 1));
    if (!value(0)) return false;
    if (pos_ != s_.size()) return fail("trailing bytes after the value", pos_);
    return true;
  }

 private:
  bool fail(const char* what, size_t at) {
    err_.what = what;
    err_.offset = at;
    return false;
  }

  bool value(uint32_t depth) {
    if (depth > lim_.max_depth) return fail("nesting deeper than the depth limit", pos_);
    if (toks_.size() >= lim_.max_tokens) return fail("more values than the token limit", pos_);
    if (pos_ >= s_.size()) return fail("truncated input", pos_);
    uint8_t c = s_[pos_];
    if (c == 'i') return integer();
    if (c >= '0' && c <= '9') return string();
    if (c == 'l' || c == 'd') return container(c == 'd', depth);
    return fail("unexpected byte", pos_);
  }

  // Parses digits up to `stop`, canonical form only (no leading zeros, no
  // "-0", no '+'), into a 63-bit value.
  bool number(char stop, bool allow_negative, int64_t& out) {
    size_t start = pos_;
    bool negative = false;
    if (allow_negative && pos_ < s_.size() && s_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    size_t digits_at = pos_;
    uint64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (v > (INT64_MAX - 9) / 10) return fail("integer overflows 63 bits", start);
      v = v * 10 + (s_[pos_] - '0');
      ++pos_;
    }
    size_t ndigits = pos_ - digits_at;
    if (pos_ >= s_.size()) return fail("truncated input", pos_);
    if (ndigits == 0 || s_[pos_] != stop) return fail("malformed number", start);
    if (ndigits > 1 && s_[digits_at] == '0') return fail("number with a leading zero", start);
    if (negative && v == 0) return fail("negative zero", start);
    ++pos_;  // the stop byte
    out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return true;
  }

  bool integer() {
    uint32_t begin = static_cast<uint32_t>(pos_);
    ++pos_;
    int64_t v;
    if (!number('e', true, v)) return false;
    toks_.push_back({BType::kInt, begin, static_cast<uint32_t>(pos_),
                     static_cast<uint32_t>(toks_.size() + 1), 0, v});
    return true;
  }

  bool string() {
    uint32_t begin = static_cast<uint32_t>(pos_);
    int64_t len;
    if (!number(':', false, len)) return false;
    if (static_cast<uint64_t>(len) > s_.size() - pos_)
      return fail("string runs past the end", begin);
    int64_t payload = static_cast<int64_t>(pos_);
    pos_ += static_cast<size_t>(len);
    toks_.push_back({BType::kString, begin, static_cast<uint32_t>(pos_),
                     static_cast<uint32_t>(toks_.size() + 1), 0, payload});
    return true;
  }

  bool container(bool dict, uint32_t depth) {
    uint32_t self = static_cast<uint32_t>(toks_.size());
    toks_.push_back({dict ? BType::kDict : BType::kList, static_cast<uint32_t>(pos_), 0, 0, 0, 0});
    ++pos_;
    uint32_t count = 0;
    std::string_view prev_key;
    bool have_prev = false;
    while (true) {
      if (pos_ >= s_.size()) return fail("truncated input", pos_);
      if (s_[pos_] == 'e') {
        ++pos_;
        break;
      }
      if (dict) {
        if (s_[pos_] < '0' || s_[pos_] > '9') return fail("dictionary key is not a string", pos_);
        size_t key_at = pos_;
        if (!string()) return false;
        const BToken& k = toks_.back();
        std::string_view key(reinterpret_cast<const char*>(s_.data()) + k.integer,
                             k.end - static_cast<uint32_t>(k.integer));
        if (lim_.require_sorted_keys && have_prev && key <= prev_key)
          return fail(key == prev_key ? "duplicate dictionary key" : "dictionary keys not sorted",
                      key_at);
        prev_key = key;
        have_prev = true;
      }
      if (!value(depth + 1)) return false;
      ++count;
    }
    BToken& t = toks_[self];
    t.end = static_cast<uint32_t>(pos_);
    t.next = static_cast<uint32_t>(toks_.size());
    t.count = count;
    return true;
  }

  std::span<const uint8_t> s_;
  const BencodeLimits& lim_;
  std::vector<BToken>& toks_;
  BencodeError& err_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<BDocument> BDocument::decode(std::span<const uint8_t> bytes, BencodeError& error,
                                           const BencodeLimits& limits) {
  BDocument doc;
  doc.src_ = bytes;
  if (bytes.size() >= UINT32_MAX) {
    error = {"input larger than 4 GiB", 0};
    return std::nullopt;
  }
  Decoder d(bytes, limits, doc.tokens_, error);
  if (!d.run()) return std::nullopt;
  return doc;
}

const BToken& BNode::tok() const {
  return doc_->tokens_[index_];
}
BType BNode::type() const {
  return tok().type;
}

int64_t BNode::integer() const {
  return is_int() ? tok().integer : 0;
}

std::string_view BNode::string() const {
  if (!is_string()) return {};
  const BToken& t = tok();
  return {reinterpret_cast<const char*>(doc_->src_.data()) + t.integer,
          t.end - static_cast<uint32_t>(t.integer)};
}

uint32_t BNode::size() const {
  return (is_list() || is_dict()) ? tok().count : 0;
}

BNode BNode::list_at(uint32_t i) const {
  if (!is_list() || i >= size()) return {};
  uint32_t at = index_ + 1;
  while (i--) at = doc_->tokens_[at].next;
  return BNode(doc_, at);
}

BNode BNode::dict_find(std::string_view key) const {
  BNode found;
  for_each_pair([&](std::string_view k, BNode v) {
    if (k == key) {
      found = v;
      return false;
    }
    return true;
  });
  return found;
}

std::optional<int64_t> BNode::find_int(std::string_view key) const {
  BNode n = dict_find(key);
  if (!n.is_int()) return std::nullopt;
  return n.integer();
}

std::optional<std::string_view> BNode::find_string(std::string_view key) const {
  BNode n = dict_find(key);
  if (!n.is_string()) return std::nullopt;
  return n.string();
}

std::span<const uint8_t> BNode::raw() const {
  const BToken& t = tok();
  return doc_->src_.subspan(t.begin, t.end - t.begin);
}

void bencode_int(std::string& out, int64_t v) {
  fmt::format_to(std::back_inserter(out), "i{}e", v);
}

void bencode_string(std::string& out, std::string_view s) {
  fmt::format_to(std::back_inserter(out), "{}:", s.size());
  out.append(s);
}

}  // namespace swarmdial
