#include <gtest/gtest.h>

#include <string>

#include "engine/cidr.hpp"
#include "engine/endpoint.hpp"
#include "engine/exclude_list.hpp"
#include "engine/port_list.hpp"

using namespace swarmdial;

TEST(Endpoint, ParsesV4AndBracketedV6) {
  auto a = parse_endpoint("127.0.0.1:6881");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->ip.is_v4());
  EXPECT_EQ(a->port, 6881);
  EXPECT_EQ(format_endpoint(*a), "127.0.0.1:6881");
  auto b = parse_endpoint("[::1]:80");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->ip.is_v4());
  EXPECT_EQ(format_endpoint(*b), "[::1]:80");
}

TEST(Endpoint, RejectsMalformed) {
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:80x", "::1:80",
        "[::1]80", "[::1", "256.1.1.1:80", "host:80", "127.0.0.1:-1", "1.2.3:80"})
    EXPECT_FALSE(parse_endpoint(bad)) << bad;
}

TEST(Cidr, ParseContainsSizeAt) {
  auto c = parse_cidr("127.0.1.7/24");
  ASSERT_TRUE(c);
  EXPECT_EQ(format_ip(c->base), "127.0.1.0");
  EXPECT_EQ(c->size(), 256u);
  EXPECT_EQ(format_ip(c->at(0)), "127.0.1.0");
  EXPECT_EQ(format_ip(c->at(255)), "127.0.1.255");
  EXPECT_TRUE(c->contains(*parse_ip("127.0.1.99")));
  EXPECT_FALSE(c->contains(*parse_ip("127.0.2.1")));
  EXPECT_FALSE(c->contains(*parse_ip("::1")));
  auto one = parse_cidr("10.1.2.3");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->size(), 1u);
  auto v6 = parse_cidr("fd00::/120");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->size(), 256u);
  EXPECT_EQ(format_ip(v6->at(255)), "fd00::ff");
  auto carry = parse_cidr("127.0.0.0/16");
  EXPECT_EQ(format_ip(carry->at(256 + 5)), "127.0.1.5");
  for (const char* bad :
       {"127.0.0.1/33", "127.0.0.1/", "127.0.0.1/x", "/8", "::/129", "1.2.3.4/-1"})
    EXPECT_FALSE(parse_cidr(bad)) << bad;
}

TEST(PortList, RangesListsAndDedupe) {
  auto p = parse_port_list("80,6881-6883,80,443");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (std::vector<uint16_t>{80, 443, 6881, 6882, 6883}));
  for (const char* bad : {"", "0", "80,", "90-80", "1-70000", "a", "80,,81"})
    EXPECT_FALSE(parse_port_list(bad)) << bad;
}

TEST(PortList, OverlappingRangesAreASetNotAnExpansion) {
  // 8 KB of repeated whole ranges once expanded to 65 million entries.
  std::string text = "1-65535";
  for (int i = 0; i < 1000; ++i) text += ",1-65535";
  auto p = parse_port_list(text);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 65535u);
  EXPECT_EQ(p->front(), 1);
  EXPECT_EQ(p->back(), 65535);
  // Word edges: ranges that start and end inside, at and across 64-port words.
  p = parse_port_list("63-64,127,128-129,200-191,65535");
  EXPECT_FALSE(p);  // 200-191 descends
  p = parse_port_list("63-64,127,128-129,191-200,65535,1");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (std::vector<uint16_t>{1, 63, 64, 127, 128, 129, 191, 192, 193, 194, 195, 196, 197,
                                       198, 199, 200, 65535}));
}

TEST(ExcludeList, MembershipAndFileErrors) {
  auto parsed =
      parse_exclude_text("# reserved\n127.0.5.0/24\n\n127.0.6.1  # one host\nfd00::/64\n");
  ASSERT_TRUE(std::holds_alternative<ExcludeList>(parsed));
  const auto& ex = std::get<ExcludeList>(parsed);
  EXPECT_TRUE(ex.contains(*parse_ip("127.0.5.200")));
  EXPECT_TRUE(ex.contains(*parse_ip("127.0.6.1")));
  EXPECT_FALSE(ex.contains(*parse_ip("127.0.6.2")));
  EXPECT_FALSE(ex.contains(*parse_ip("127.0.4.255")));
  EXPECT_TRUE(ex.contains(*parse_ip("fd00::1234")));
  EXPECT_FALSE(ex.contains(*parse_ip("fd01::1")));
  auto bad = parse_exclude_text("127.0.0.0/8\nnot-a-cidr\n");
  ASSERT_TRUE(std::holds_alternative<ExcludeParseError>(bad));
  EXPECT_EQ(std::get<ExcludeParseError>(bad).line, 2);
  EXPECT_EQ(std::get<ExcludeParseError>(bad).text, "not-a-cidr");
}

TEST(ExcludeList, WholeSpaceBlocks) {
  auto parsed = parse_exclude_text("0.0.0.0/0\n::/0\n");
  const auto& ex = std::get<ExcludeList>(parsed);
  EXPECT_TRUE(ex.contains(*parse_ip("255.255.255.255")));
  EXPECT_TRUE(ex.contains(*parse_ip("ffff::1")));
}
