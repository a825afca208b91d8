#include "engine/peerwire/metainfo.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include "engine/peerwire/bencode.hpp"

using namespace swarmdial;

namespace {
std::string str(std::string_view s) {
  std::string out;
  bencode_string(out, s);
  return out;
}
std::string pieces(size_t n) {
  return str(std::string(20 * n, 'h'));
}
std::string torrent(const std::string& info, const std::string& extra = "") {
  return "d" + extra + "4:info" + info + "e";
}
}  // namespace

TEST(Metainfo, SingleFile) {
  std::string info =
      "d6:lengthi40000e4:name" + str("a.bin") + "12:piece lengthi16384e6:pieces" + pieces(3) + "e";
  auto m = parse_metainfo(torrent(info, "8:announce" + str("http://127.0.0.1/announce")));
  ASSERT_TRUE(std::holds_alternative<Metainfo>(m)) << std::get<std::string>(m);
  auto& mi = std::get<Metainfo>(m);
  EXPECT_EQ(mi.num_pieces, 3u);
  EXPECT_EQ(mi.piece_size(0), 16384u);
  EXPECT_EQ(mi.piece_size(2), 40000u - 2 * 16384u);
  EXPECT_EQ(mi.files.size(), 1u);
  EXPECT_EQ(mi.files[0].path, "a.bin");
  ASSERT_EQ(mi.announce_tiers.size(), 1u);
  InfoHash want;
  SHA1(reinterpret_cast<const uint8_t*>(info.data()), info.size(), want.data());
  EXPECT_EQ(mi.info_hash, want) << "info-hash is SHA-1 of the info dict's exact bytes";
}

TEST(Metainfo, MultiFileAndAnnounceList) {
  std::string files = "ld6:lengthi20000e4:pathl" + str("d") + str("x.bin") +
                      "eed6:lengthi30000e4:pathl" + str("y.bin") + "eee";
  std::string info = "d5:files" + files + "4:name" + str("set") + "12:piece lengthi16384e6:pieces" +
                     pieces(4) + "e";
  std::string tiers =
      "13:announce-listll" + str("udp://a") + str("udp://b") + "el" + str("http://c") + "ee";
  auto m = parse_metainfo(torrent(info, tiers));
  ASSERT_TRUE(std::holds_alternative<Metainfo>(m)) << std::get<std::string>(m);
  auto& mi = std::get<Metainfo>(m);
  EXPECT_TRUE(mi.multi_file);
  ASSERT_EQ(mi.files.size(), 2u);
  EXPECT_EQ(mi.files[0].path, "set/d/x.bin");
  EXPECT_EQ(mi.files[1].offset, 20000u);
  EXPECT_EQ(mi.total_length, 50000u);
  ASSERT_EQ(mi.announce_tiers.size(), 2u);
  EXPECT_EQ(mi.announce_tiers[0].size(), 2u);
}

TEST(Metainfo, MaliciousPathsRejected) {
  for (const char* evil : {"..", ".", "", "a/b", "a\\b"}) {
    std::string files = "ld6:lengthi10e4:pathl" + str("ok") + str(evil) + "eee";
    std::string info = "d5:files" + files + "4:name" + str("set") +
                       "12:piece lengthi16384e6:pieces" + pieces(1) + "e";
    auto m = parse_metainfo(torrent(info));
    EXPECT_TRUE(std::holds_alternative<std::string>(m))
        << "accepted path component '" << evil << "'";
  }
  std::string info =
      "d6:lengthi10e4:name" + str("..") + "12:piece lengthi16384e6:pieces" + pieces(1) + "e";
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_metainfo(torrent(info))));
  std::string abs = "ld6:lengthi10e4:pathl" + str("/etc") + "eee";
  info =
      "d5:files" + abs + "4:name" + str("s") + "12:piece lengthi16384e6:pieces" + pieces(1) + "e";
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_metainfo(torrent(info))));
}

TEST(Metainfo, GeometryErrors) {
  std::string wrong =
      "d6:lengthi40000e4:name" + str("a") + "12:piece lengthi16384e6:pieces" + pieces(2) + "e";
  auto m = parse_metainfo(torrent(wrong));
  ASSERT_TRUE(std::holds_alternative<std::string>(m));
  EXPECT_NE(std::get<std::string>(m).find("pieces"), std::string::npos);
  std::string tiny =
      "d6:lengthi40000e4:name" + str("a") + "12:piece lengthi100e6:pieces" + pieces(400) + "e";
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_metainfo(torrent(tiny))));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_metainfo("garbage")));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_metainfo("de")));
}
