#include "engine/result_format.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using namespace swarmdial;

namespace {
ResultRow sample() {
  ResultRow r;
  r.target = *parse_endpoint("127.0.0.9:6881");
  r.outcome = Outcome::kEstablished;
  r.rtt_us = 123;
  r.attempts = 1;
  r.shard = 1;
  r.t_us = 4567;
  return r;
}
std::string render(const RowFormatter& f, const ResultRow& r) {
  fmt::memory_buffer b;
  f.append(r, b);
  return fmt::to_string(b);
}
}  // namespace

TEST(RowFormat, CsvMatchesHeader) {
  RowFormatter f(false, false);
  EXPECT_EQ(f.header(), "target,port,outcome,rtt_us,attempts,shard,t_us\n");
  EXPECT_EQ(render(f, sample()), "127.0.0.9,6881,established,123,1,1,4567\n");
  auto t = sample();
  t.outcome = Outcome::kTimeout;
  t.rtt_us = -1;
  t.attempts = 3;
  EXPECT_EQ(render(f, t), "127.0.0.9,6881,timeout,,3,1,4567\n");
  t.outcome = Outcome::kError;
  t.err = EADDRNOTAVAIL;
  EXPECT_EQ(render(f, t), "127.0.0.9,6881,error:EADDRNOTAVAIL,,3,1,4567\n");
}

TEST(RowFormat, JsonlHasSameKeysAndParses) {
  RowFormatter f(true, true);
  auto r = sample();
  r.bt = BtResult::kOk;
  std::strcpy(r.client, "libtorrent, \"2\"");
  auto j = nlohmann::json::parse(render(f, r));
  EXPECT_EQ(j["target"], "127.0.0.9");
  EXPECT_EQ(j["port"], 6881);
  EXPECT_EQ(j["outcome"], "established");
  EXPECT_EQ(j["rtt_us"], 123);
  EXPECT_EQ(j["attempts"], 1);
  EXPECT_EQ(j["shard"], 1);
  EXPECT_EQ(j["t_us"], 4567);
  EXPECT_EQ(j["bt"], "bt_ok");
  EXPECT_EQ(j["client"], "libtorrent_ _2_") << "peer-supplied text is sanitised";
  r.rtt_us = -1;
  r.bt = BtResult::kNone;
  auto k = nlohmann::json::parse(render(f, r));
  EXPECT_TRUE(k["rtt_us"].is_null());
  EXPECT_TRUE(k["bt"].is_null());
  auto v6 = sample();
  v6.target = *parse_endpoint("[::1]:80");
  EXPECT_EQ(nlohmann::json::parse(render(f, v6))["target"], "::1");
}
