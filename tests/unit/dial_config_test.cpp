#include "tools/swarmdial/options/dial_config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "usage_error_expect.hpp"

using namespace swarmdial;

namespace {
DialConfig parse(std::vector<std::string> args) {
  return testing_support::parse_or_throw(parse_dial_args, args);
}

// The message must be one line and name the offending flag.
void expect_usage_error(std::vector<std::string> args, const std::string& names) {
  testing_support::expect_usage_error(parse_dial_args, args, names);
}
}  // namespace

TEST(DialConfig, Defaults) {
  auto c = parse({"--range", "127.0.0.1/32:80"});
  EXPECT_EQ(c.backend, Backend::kUring);
  EXPECT_EQ(c.half_open, 256u);
  EXPECT_EQ(c.timeout_ms, 3000);
  EXPECT_EQ(c.format, RowFormat::kCsv);
  ASSERT_TRUE(c.range);
  EXPECT_EQ(c.range->ports, std::vector<uint16_t>{80});
}

TEST(DialConfig, AllFlagsParse) {
  auto c = parse(
      {"--targets",     "-",         "--backend",      "epoll",
       "--shards",      "3",         "--half-open",    "64",
       "--rate",        "500.5",     "--timeout",      "250",
       "--retries",     "2",         "--source",       "127.0.1.0/30",
       "--max-targets", "10",        "--duration",     "1.5",
       "--output",      "x.csv",     "--format",       "jsonl",
       "--summary",     "s.json",    "--bt-infohash",  "0123456789abcdef0123456789ABCDEF01234567",
       "--hold",        "--metrics", "127.0.0.1:9100", "--quiet",
       "--seed",        "7"});
  EXPECT_EQ(c.targets_file, "-");
  EXPECT_EQ(c.backend, Backend::kEpoll);
  EXPECT_EQ(c.shards, 3u);
  EXPECT_EQ(c.half_open, 64u);
  EXPECT_DOUBLE_EQ(c.rate, 500.5);
  EXPECT_EQ(c.retries, 2u);
  EXPECT_EQ(c.sources.size(), 4u);
  EXPECT_EQ(c.max_targets, 10u);
  EXPECT_EQ(c.format, RowFormat::kJsonl);
  ASSERT_TRUE(c.bt_infohash);
  EXPECT_EQ((*c.bt_infohash)[0], 0x01);
  EXPECT_EQ((*c.bt_infohash)[19], 0x67);
  EXPECT_TRUE(c.hold);
  EXPECT_EQ(c.metrics->port, 9100);
  EXPECT_EQ(*c.seed, 7u);
}

TEST(DialConfig, BadValuesNameTheFlag) {
  expect_usage_error({"--range", "127.0.0.1/32:80", "--half-open", "0"}, "--half-open");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--rate=-5"}, "--rate");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--rate", "abc"}, "rate");
  expect_usage_error({"--range", "127.0.0.1/33:80"}, "--range");
  expect_usage_error({"--range", "127.0.0.1/32:0"}, "--range");
  expect_usage_error({"--range", "127.0.0.1/32:70000"}, "--range");
  expect_usage_error({"--range", "300.0.0.1/32:80"}, "--range");
  expect_usage_error({"--range", "::/0:80"}, "--range");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--timeout", "0"}, "--timeout");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--retries", "99"}, "--retries");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--backend", "raw"}, "--backend");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--format", "xml"}, "--format");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--source", "nope"}, "--source");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--bt-infohash", "abcd"}, "--bt-infohash");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--metrics", "localhost"}, "--metrics");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--shards", "0"}, "--shards");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--bogus"}, "bogus");
}

TEST(DialConfig, ConflictingAndMissingFlags) {
  expect_usage_error({"--targets", "t", "--range", "127.0.0.1/32:80"}, "mutually exclusive");
  expect_usage_error({}, "--targets");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--quiet", "--status"}, "--quiet");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--dpdk", "-l 0"}, "--dpdk");
}

TEST(DialConfig, DpdkBackendNeedsItsOwnAddressesAndEal) {
  const std::vector<std::string> base = {"--range", "198.18.0.1/32:80", "--backend", "dpdk"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  expect_usage_error(with({"--source", "198.18.0.100/32"}), "--dpdk");
  expect_usage_error(with({"--dpdk", "--no-pci"}), "--source");
  expect_usage_error(with({"--dpdk", "--no-pci", "--source", "fd00::1/128"}), "IPv4");
  expect_usage_error(with({"--dpdk", "--no-pci", "--source", "198.18.0.100/32", "--gateway", "gw"}),
                     "--gateway");
  expect_usage_error({"--range", "198.18.0.1/32:80", "--gateway", "198.18.0.254"}, "--gateway");
  auto c = parse(with({"--dpdk", "--no-pci --vdev net_ring0", "--source", "198.18.0.100/31",
                       "--gateway", "198.18.0.254"}));
  EXPECT_EQ(c.backend, Backend::kDpdk);
  EXPECT_EQ(c.dpdk_args, "--no-pci --vdev net_ring0");
  EXPECT_EQ(c.sources.size(), 2u);
  ASSERT_TRUE(c.gateway.has_value());
  EXPECT_EQ(c.gateway->bytes[3], 254);
  EXPECT_FALSE(c.shards_given);
  EXPECT_TRUE(
      parse(with({"--dpdk", "x", "--source", "198.18.0.100/32", "--shards", "2"})).shards_given);
}

TEST(DialConfig, ConfigFileKeysAndCommandLinePrecedence) {
  std::string path = testing::TempDir() + "/dial.ini";
  {
    std::ofstream f(path);
    f << "range = 127.0.0.1/32:80\nhalf-open = 77\nrate = 123\nformat = jsonl\n";
  }
  auto c = parse({"--config", path, "--rate", "456"});
  EXPECT_EQ(c.half_open, 77u);
  EXPECT_DOUBLE_EQ(c.rate, 456) << "the command line wins over the file";
  EXPECT_EQ(c.format, RowFormat::kJsonl);
  {
    std::ofstream f(path);
    f << "range = 127.0.0.1/32:80\nhalf-open = zero\n";
  }
  expect_usage_error({"--config", path}, "half-open");
  {
    std::ofstream f(path);
    f << "nonsense-key = 1\n";
  }
  expect_usage_error({"--config", path}, "nonsense-key");
  expect_usage_error({"--config", "/nonexistent/dial.ini"}, "--config");
  {
    std::ofstream f(path);
    f << std::string(2 << 20, '#');
  }
  expect_usage_error({"--config", path}, "1 MiB");
}

// Boost.Program_options loops forever formatting an error about input that
// holds one of its own placeholders (found by fuzz_config); such input must
// be refused with a one-line error instead of hanging the command.
TEST(DialConfig, BoostPlaceholdersInInputAreRefusedNotHung) {
  expect_usage_error({"--range", "127.0.0.1/32:80", "--rate", "%value%"}, "%value%");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--x%canonical_option%"}, "argument 3");
  std::string path = testing::TempDir() + "/placeholder.ini";
  {
    std::ofstream f(path);
    f << "range = 127.0.0.1/32:80\nhal%original_token%f-open = 8\n";
  }
  expect_usage_error({"--config", path}, "line 2");
  // A lone percent sign is an ordinary character.
  {
    std::ofstream f(path);
    f << "range = 127.0.0.1/32:80\nrate = 100%\n";
  }
  expect_usage_error({"--config", path}, "rate");
}

TEST(DialConfig, HelpIsNotAnError) {
  std::string help;
  EXPECT_FALSE(parse_dial_args({"--help"}, help));
  EXPECT_NE(help.find("--half-open"), std::string::npos);
  EXPECT_NE(help.find("Example"), std::string::npos);
}

TEST(DialConfig, HalfOpenAutoTakesItsBoundsAndFixedRefusesThem) {
  auto c = parse({"--range", "127.0.0.1/32:80", "--half-open", "auto", "--half-open-min", "16"});
  EXPECT_TRUE(c.half_open_auto);
  EXPECT_EQ(c.half_open, 4096u) << "the default ceiling sizes the slab";
  EXPECT_EQ(c.half_open_min, 16u);
  auto f = parse({"--range", "127.0.0.1/32:80", "--half-open", "100"});
  EXPECT_FALSE(f.half_open_auto);
  EXPECT_EQ(f.half_open, 100u);
  expect_usage_error({"--range", "127.0.0.1/32:80", "--half-open", "lots"}, "--half-open");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--half-open", "0"}, "--half-open");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--half-open", "64", "--half-open-max", "9"},
                     "--half-open-min/--half-open-max");
  expect_usage_error({"--range", "127.0.0.1/32:80", "--half-open", "auto", "--half-open-min", "100",
                      "--half-open-max", "10"},
                     "--half-open-min");
}
