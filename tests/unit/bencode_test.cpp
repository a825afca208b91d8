#include "engine/peerwire/bencode.hpp"

#include <gtest/gtest.h>

using namespace swarmdial;

namespace {
std::optional<BDocument> decode(std::string_view s, BencodeError& e, BencodeLimits l = {}) {
  return BDocument::decode(s, e, l);
}
}  // namespace

TEST(Bencode, ValidDocument) {
  std::string s = "d3:bar4:spam3:fooi42e4:listli-3e0:le1:xdeee";
  BencodeError e;
  auto doc = decode(s, e);
  ASSERT_TRUE(doc) << e.what;
  BNode r = doc->root();
  ASSERT_TRUE(r.is_dict());
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(*r.find_string("bar"), "spam");
  EXPECT_EQ(*r.find_int("foo"), 42);
  BNode list = r.dict_find("list");
  ASSERT_TRUE(list.is_list());
  EXPECT_EQ(list.size(), 5u);
  EXPECT_EQ(list.list_at(0).integer(), -3);
  EXPECT_EQ(list.list_at(1).string(), "");
  EXPECT_TRUE(list.list_at(2).is_list());
  EXPECT_EQ(list.list_at(3).string(), "x");
  EXPECT_TRUE(list.list_at(4).is_dict());
  EXPECT_FALSE(list.list_at(5));
  EXPECT_FALSE(r.dict_find("missing"));
  auto raw = list.raw();
  EXPECT_EQ(std::string(raw.begin(), raw.end()), "li-3e0:le1:xdee");
}

TEST(Bencode, InvalidAndTruncated) {
  for (const char* bad : {"", "i", "i42", "ie", "i-e", "ix2e", "5:abc", "l", "d", "d3:fooe",
                          "di1ei2ee", "x", "i1ei2e", "3:abcd", "-1:a", "l1:ae1"}) {
    BencodeError e;
    EXPECT_FALSE(decode(bad, e)) << "accepted '" << bad << "'";
    EXPECT_FALSE(e.what.empty());
  }
}

TEST(Bencode, NonCanonicalRejected) {
  BencodeError e;
  EXPECT_FALSE(decode("i03e", e));
  EXPECT_NE(e.what.find("leading zero"), std::string::npos);
  EXPECT_FALSE(decode("i-0e", e));
  EXPECT_FALSE(decode("03:abc", e));
  EXPECT_FALSE(decode("d1:bi1e1:ai2ee", e));
  EXPECT_NE(e.what.find("sorted"), std::string::npos);
  EXPECT_FALSE(decode("d1:ai1e1:ai2ee", e));
  EXPECT_NE(e.what.find("duplicate"), std::string::npos);
  BencodeLimits lax;
  lax.require_sorted_keys = false;
  EXPECT_TRUE(decode("d1:bi1e1:ai2ee", e, lax));
  EXPECT_TRUE(decode("i0e", e));
}

TEST(Bencode, DepthSizeAndTokenLimits) {
  std::string deep(100, 'l');
  deep += std::string(100, 'e');
  BencodeError e;
  EXPECT_FALSE(decode(deep, e));
  EXPECT_NE(e.what.find("depth"), std::string::npos);
  BencodeLimits l;
  l.max_depth = 200;
  EXPECT_TRUE(decode(deep, e, l));
  l.max_size = 10;
  EXPECT_FALSE(decode("20:aaaaaaaaaaaaaaaaaaaa", e, l));
  BencodeLimits t;
  t.max_tokens = 5;
  EXPECT_FALSE(decode("li1ei2ei3ei4ei5ei6ee", e, t));
  EXPECT_FALSE(decode("i9223372036854775808e", e)) << "overflow";
  EXPECT_TRUE(decode("i9223372036854775799e", e));
}

TEST(Bencode, HugeStringLengthDoesNotAllocate) {
  BencodeError e;
  EXPECT_FALSE(decode("999999999999:x", e));
  EXPECT_FALSE(decode("l4294967296:xe", e));
}

TEST(Bencode, Encoder) {
  std::string out;
  bencode_int(out, -7);
  bencode_string(out, "spam");
  EXPECT_EQ(out, "i-7e4:spam");
}
