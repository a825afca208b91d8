// The peer-wire session on the leech side (the emulated swarm's downloader)
// fed a whole stream from a stranger: it ends with a reason or goes on,
// never crashes, never has more requests out than its pipeline, never counts
// a piece verified that does not hash right, and what it sends is well
// framed. The torrent's pieces are all zeros, so a stream that sends zero
// blocks can really complete it.
#include <openssl/sha.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

#include "engine/peerwire/bt_handshake.hpp"
#include "engine/peerwire/leech_session.hpp"
#include "engine/peerwire/metainfo.hpp"
#include "tests/support/wire_framing.hpp"

using namespace swarmdial;
using testing_support::check_framing;

namespace {

// Metainfo wants pieces of 16 KiB or more: two pieces keep streams small.
constexpr uint32_t kPieces = 2, kPieceLength = 16384, kLast = 100;

const Metainfo& zero_torrent() {
  static const Metainfo meta = [] {
    std::string zeros(kPieceLength, '\0'), hashes;
    for (uint32_t p = 0; p < kPieces; ++p) {
      unsigned char d[SHA_DIGEST_LENGTH];
      SHA1(reinterpret_cast<const unsigned char*>(zeros.data()),
           p + 1 < kPieces ? kPieceLength : kLast, d);
      hashes.append(reinterpret_cast<const char*>(d), sizeof d);
    }
    uint64_t length = uint64_t{kPieceLength} * (kPieces - 1) + kLast;
    std::string t = "d4:infod6:lengthi" + std::to_string(length) +
                    "e4:name5:z.bin12:piece lengthi" + std::to_string(kPieceLength) + "e6:pieces" +
                    std::to_string(hashes.size()) + ":" + hashes + "ee";
    auto r = parse_metainfo(t);
    if (!std::holds_alternative<Metainfo>(r)) std::abort();
    return std::get<Metainfo>(r);
  }();
  return meta;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Metainfo& meta = zero_torrent();
  // How the stream is split into reads: byte by byte up to whole messages.
  static constexpr uint32_t kChunks[] = {1, 7, 64, 1500, 16384, 65536};
  uint32_t chunk = kChunks[(data[0] & 0x3f) % 6];
  LeechConfig cfg;
  cfg.meta = &meta;
  cfg.peer_id = make_peer_id(3);
  cfg.pipeline = 4;
  cfg.first_piece = data[0] % kPieces;
  LeechSession s(cfg);
  std::string out;
  s.start(out);
  size_t ours = out.size();  // our handshake and INTERESTED
  // Half the time the seed answers with a valid handshake, so the fuzzer
  // reaches the messages.
  std::string stream;
  if (data[0] & 0x80) {
    auto hs = build_bt_handshake(meta.info_hash, make_peer_id(4));
    stream.assign(reinterpret_cast<const char*>(hs.data()), hs.size());
  }
  stream.append(reinterpret_cast<const char*>(data + 1), size - 1);
  for (size_t at = 0; at < stream.size(); at += chunk) {
    size_t n = std::min<size_t>(chunk, stream.size() - at);
    bool alive = s.on_receive(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(stream.data() + at), n), out);
    if (s.pieces_verified() > kPieces) std::abort();
    if (s.bytes_verified() > s.bytes_received()) std::abort();
    if (!alive) break;
  }
  (void)s.on_receive({}, out);  // the peer closes
  if (s.complete() && s.end() != LeechEnd::kComplete && s.end() != LeechEnd::kNone) std::abort();
  if (getenv("FUZZ_LEECH_VERBOSE"))
    fprintf(stderr, "verified %u of %u, end %s\n", s.pieces_verified(), kPieces,
            std::string(leech_end_name(s.end())).c_str());
  check_framing(out, ours);
  return 0;
}
