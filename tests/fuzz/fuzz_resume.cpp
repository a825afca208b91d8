// Fast-resume state files (seed --state-dir) for a fixed three-file
// torrent. What decodes must fit the torrent, every piece must get a
// verdict, and encoding it again must decode to the same state.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/peerwire/resume_data.hpp"

using namespace swarmdial;

static Metainfo three_files() {
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

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Metainfo meta = three_files();
  auto r = decode_resume(std::string_view(reinterpret_cast<const char*>(data), size), meta);
  auto* d = std::get_if<ResumeData>(&r);
  if (!d) {
    if (std::get<std::string>(r).empty()) std::abort();  // a refusal must say why
    return 0;
  }
  if (d->files.size() != meta.files.size() || d->have.size() != 2) std::abort();
  if (pieces_unchanged(meta, *d, d->files).size() != meta.num_pieces) std::abort();
  auto again = decode_resume(encode_resume(*d), meta);
  auto* e = std::get_if<ResumeData>(&again);
  if (!e || e->files != d->files || e->have != d->have) std::abort();
  return 0;
}
