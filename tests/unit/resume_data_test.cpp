// Fast-resume data: the round trip, which pieces a changed file sends back
// to hashing, and every reason a saved file is not taken.
#include "engine/peerwire/resume_data.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

using namespace swarmdial;

namespace {

// Three files over 10 pieces of 100 bytes: a [0, 250), b [250, 700), c [700, 950).
Metainfo three_files() {
  Metainfo m;
  m.name = "t";
  m.info_hash.fill(0xab);
  m.piece_length = 100;
  m.total_length = 950;
  m.num_pieces = 10;
  m.multi_file = true;
  m.files = {{"a", 250, 0, false}, {"b", 450, 250, false}, {"c", 250, 700, false}};
  return m;
}

ResumeData saved_for(const Metainfo& m) {
  ResumeData r;
  r.info_hash = m.info_hash;
  r.num_pieces = m.num_pieces;
  r.piece_length = m.piece_length;
  r.files = {{250, 111}, {450, 222}, {250, 333}};
  r.have = {0xff, 0x80};  // pieces 0-8 verified, 9 not
  return r;
}

std::string reason(std::string_view bytes, const Metainfo& m) {
  auto r = decode_resume(bytes, m);
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : "";
}

}  // namespace

TEST(ResumeData, RoundTrips) {
  Metainfo m = three_files();
  ResumeData r = saved_for(m);
  auto back = decode_resume(encode_resume(r), m);
  ASSERT_TRUE(std::holds_alternative<ResumeData>(back)) << std::get<std::string>(back);
  const auto& d = std::get<ResumeData>(back);
  EXPECT_EQ(d.files, r.files);
  EXPECT_EQ(d.have, r.have);
  EXPECT_EQ(d.info_hash, m.info_hash);
}

TEST(ResumeData, AChangedFileSendsItsPiecesBackToHashing) {
  Metainfo m = three_files();
  ResumeData r = saved_for(m);
  std::vector<ResumeFileStat> now = r.files;
  auto all = pieces_unchanged(m, r, now);
  EXPECT_EQ(all, std::vector<uint8_t>(10, 1));
  now[1].mtime_ns += 1;  // b touched: pieces 2..6 (2 and 6 straddle a and c)
  EXPECT_EQ(pieces_unchanged(m, r, now), (std::vector<uint8_t>{1, 1, 0, 0, 0, 0, 0, 1, 1, 1}));
  now = r.files;
  now[2].size = 249;  // c shrank: pieces 7..9
  EXPECT_EQ(pieces_unchanged(m, r, now), (std::vector<uint8_t>{1, 1, 1, 1, 1, 1, 1, 0, 0, 0}));
  // Missing then and now: hashed anyway (they fail), so data put back is found.
  r.files[0] = {-1, 0};
  now = r.files;
  EXPECT_EQ(pieces_unchanged(m, r, now), (std::vector<uint8_t>{0, 0, 0, 1, 1, 1, 1, 1, 1, 1}));
}

TEST(ResumeData, PadFilesNeverCountAsChanged) {
  Metainfo m = three_files();
  m.files[1].pad = true;
  ResumeData r = saved_for(m);
  r.files[1] = {-1, 0};
  EXPECT_EQ(pieces_unchanged(m, r, r.files), std::vector<uint8_t>(10, 1));
}

TEST(ResumeData, RefusesWhatIsNotThisTorrentsState) {
  Metainfo m = three_files();
  std::string good = encode_resume(saved_for(m));
  EXPECT_EQ(reason(good, m), "");

  Metainfo other = m;
  other.info_hash.fill(0xcd);
  EXPECT_EQ(reason(good, other), "saved for another torrent");
  Metainfo geometry = m;
  geometry.piece_length = 200;
  EXPECT_EQ(reason(good, geometry), "saved with another piece geometry");
  Metainfo fewer = m;
  fewer.files.pop_back();
  EXPECT_EQ(reason(good, fewer), "another file count");

  ResumeData short_bits = saved_for(m);
  short_bits.have.pop_back();
  EXPECT_EQ(reason(encode_resume(short_bits), m), "bitfield of the wrong length");
  EXPECT_EQ(reason(good.substr(0, good.size() - 1), m).rfind("not a resume file", 0), 0u);
  EXPECT_EQ(reason("", m).rfind("not a resume file", 0), 0u);
  EXPECT_EQ(reason("i5e", m), "not a resume file: not a dictionary");
}

TEST(ResumeData, SizeAndDepthAreBounded) {
  Metainfo m = three_files();
  std::string deep = "d5:files" + std::string(100, 'l') + std::string(100, 'e') + "e";
  EXPECT_EQ(reason(deep, m).rfind("not a resume file", 0), 0u);
  ResumeData big = saved_for(m);
  big.files.assign(100'000, {1, 1});  // far more than three files can need
  EXPECT_EQ(reason(encode_resume(big), m).rfind("not a resume file", 0), 0u);
  std::string bad_entry = encode_resume(saved_for(m));
  auto at = bad_entry.find("li250ei111ee");
  ASSERT_NE(at, std::string::npos);
  bad_entry.replace(at, 12, "l3:abci111ee");
  EXPECT_EQ(reason(bad_entry, m), "a file entry is not [size, mtime]");
}
