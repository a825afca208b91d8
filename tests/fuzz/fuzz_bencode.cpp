// bencode: whatever decodes within the limits must re-encode, token by
// token, to exactly the bytes it was decoded from (BEP 3 is canonical: no
// leading zeros, sorted unique keys), and every accessor must stay in bounds.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/peerwire/bencode.hpp"

using namespace swarmdial;

namespace {
void encode(const BNode& n, std::string& out, int depth) {
  if (depth > 200) std::abort();  // the decoder's depth limit did not hold
  switch (n.type()) {
    case BType::kInt:
      bencode_int(out, n.integer());
      break;
    case BType::kString:
      bencode_string(out, n.string());
      break;
    case BType::kList:
      out += 'l';
      n.for_each_item([&](const BNode& item) {
        encode(item, out, depth + 1);
        return true;
      });
      out += 'e';
      break;
    case BType::kDict:
      out += 'd';
      n.for_each_pair([&](std::string_view key, const BNode& value) {
        bencode_string(out, key);
        encode(value, out, depth + 1);
        return true;
      });
      out += 'e';
      break;
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  BencodeError err;
  BencodeLimits limits;
  limits.max_size = 1 << 20;
  limits.max_tokens = 100'000;
  auto doc = BDocument::decode(std::span<const uint8_t>(data, size), err, limits);
  if (!doc) {
    if (err.offset > size) std::abort();
    return 0;
  }
  BNode root = doc->root();
  std::string again;
  encode(root, again, 0);
  auto raw = root.raw();
  if (again.size() != raw.size() ||
      again.compare(0, again.size(), reinterpret_cast<const char*>(raw.data()), raw.size()) != 0)
    std::abort();  // decoded, but not the same bytes when encoded again
  (void)root.dict_find("info");
  (void)root.find_int("interval");
  return 0;
}
