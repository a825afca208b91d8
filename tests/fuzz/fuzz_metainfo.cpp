// .torrent files: v1, hybrid, pad files. A parsed metainfo must be
// self-consistent: pieces cover the total length, every file path is safe.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/peerwire/metainfo.hpp"

using namespace swarmdial;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = parse_metainfo(std::string_view(reinterpret_cast<const char*>(data), size));
  auto* m = std::get_if<Metainfo>(&r);
  if (!m) {
    if (std::get<std::string>(r).empty()) std::abort();  // a failure must say why
    return 0;
  }
  if (m->piece_length == 0 || m->num_pieces == 0) std::abort();
  uint64_t covered = uint64_t{m->piece_length} * m->num_pieces;
  if (covered < m->total_length || covered - m->total_length >= m->piece_length) std::abort();
  uint64_t offset = 0;
  for (const auto& f : m->files) {
    if (f.offset != offset) std::abort();  // files tile the byte stream
    offset += f.length;
    std::string_view rest = f.path;
    while (true) {
      size_t slash = rest.find('/');
      if (!is_safe_path_component(rest.substr(0, slash))) std::abort();
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
  }
  if (offset != m->total_length) std::abort();
  return 0;
}
