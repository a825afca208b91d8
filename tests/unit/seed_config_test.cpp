#include "tools/swarmdial/options/seed_config.hpp"

#include <gtest/gtest.h>

#include "usage_error_expect.hpp"

using namespace swarmdial;

namespace {
const std::vector<std::string> kBase = {"--torrent", "t.torrent", "--data",
                                        "d",         "--listen",  "198.18.0.100:6881"};

std::vector<std::string> with(std::vector<std::string> extra) {
  std::vector<std::string> a = kBase;
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

SeedConfig parse(std::vector<std::string> args) {
  return testing_support::parse_or_throw(parse_seed_args, args);
}

void expect_usage_error(std::vector<std::string> args, const std::string& names) {
  testing_support::expect_usage_error(parse_seed_args, args, names);
}
}  // namespace

TEST(SeedConfig, DpdkBackendTakesTheSameAddressFlagsAsDial) {
  auto c = parse(with({"--backend", "dpdk", "--dpdk", "--no-pci --vdev net_ring0", "--source",
                       "198.18.0.100/30", "--gateway", "198.18.0.1"}));
  EXPECT_EQ(c.backend, Backend::kDpdk);
  EXPECT_EQ(c.addresses.dpdk_args, "--no-pci --vdev net_ring0");
  EXPECT_EQ(c.addresses.sources.size(), 4u);
  ASSERT_TRUE(c.addresses.gateway.has_value());
  EXPECT_EQ(c.addresses.gateway->bytes[3], 1);
}

TEST(SeedConfig, DpdkFlagErrorsNameTheFlag) {
  expect_usage_error(with({"--backend", "dpdk", "--source", "198.18.0.100/32"}), "--dpdk");
  expect_usage_error(with({"--backend", "dpdk", "--dpdk", "--no-pci"}), "--source");
  expect_usage_error(with({"--dpdk", "--no-pci"}), "--dpdk");
  expect_usage_error(with({"--gateway", "198.18.0.1"}), "--gateway");
  expect_usage_error(with({"--source", "not-an-address"}), "--source");
}

TEST(SeedConfig, KernelBackendsMayUseASourcePool) {
  auto c = parse(with({"--source", "127.0.1.0/29"}));
  EXPECT_EQ(c.backend, Backend::kUring);
  EXPECT_EQ(c.addresses.sources.size(), 8u);
  EXPECT_TRUE(c.addresses.dpdk_args.empty());
}

TEST(SeedConfig, EncryptionDefaultsToPreferAndNamesABadPolicy) {
  EXPECT_EQ(parse(kBase).encryption, EncryptionPolicy::kPrefer);
  EXPECT_EQ(parse(with({"--encryption", "require"})).encryption, EncryptionPolicy::kRequire);
  EXPECT_EQ(parse(with({"--encryption", "off"})).encryption, EncryptionPolicy::kOff);
  expect_usage_error(with({"--encryption", "forced"}), "--encryption");
}

TEST(SeedConfig, TorrentsPairWithTheirDataInOrder) {
  auto c = parse(with({"--torrent", "u.torrent", "--data", "e", "--torrents-dir", "/srv/t",
                       "--data-root", "/srv/d"}));
  ASSERT_EQ(c.torrents.size(), 2u);
  EXPECT_EQ(c.torrents[0].torrent_file, "t.torrent");
  EXPECT_EQ(c.torrents[0].data_path, "d");
  EXPECT_EQ(c.torrents[1].torrent_file, "u.torrent");
  EXPECT_EQ(c.torrents[1].data_path, "e");
  EXPECT_EQ(c.torrents_dir, "/srv/t");
  EXPECT_EQ(c.data_root, "/srv/d");
  // A directory alone is enough.
  auto d = parse({"--torrents-dir", "/srv/t", "--listen", "198.18.0.100:6881"});
  EXPECT_TRUE(d.torrents.empty());
  EXPECT_EQ(d.torrents_dir, "/srv/t");
}

TEST(SeedConfig, UnpairedTorrentsAndDataAreNamed) {
  expect_usage_error(with({"--data", "e"}), "--data");
  expect_usage_error(with({"--torrent", "u.torrent"}), "--torrent");
  expect_usage_error({"--listen", "198.18.0.100:6881"}, "--torrent");
  expect_usage_error(with({"--data-root", "/srv/d"}), "--data-root");
  expect_usage_error({"--torrents-dir", "", "--listen", "198.18.0.100:6881"}, "--torrents-dir");
}

// 0 = decided once the torrents are loaded (see --help); a number out of
// range names the flag.
TEST(SeedConfig, MaxTorrentsIsOptionalAndRangeChecked) {
  EXPECT_EQ(parse(kBase).max_torrents, 0u);
  EXPECT_EQ(parse(with({"--max-torrents", "5000"})).max_torrents, 5000u);
  expect_usage_error(with({"--max-torrents", "0"}), "--max-torrents");
  expect_usage_error(with({"--max-torrents", "2000000"}), "--max-torrents");
}
