// The peer-wire session fed a whole stream from a stranger, on the seed
// side, inbound and outbound: it ends (with a reason) or goes on, never
// crashes, never queues more requests than it advertised, and whatever it
// sends is well framed.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/peerwire/bt_handshake.hpp"
#include "engine/peerwire/peer_session.hpp"
#include "tests/support/wire_framing.hpp"

using namespace swarmdial;

using testing_support::check_framing;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  bool outbound = data[0] & 1;
  uint32_t chunk = 1 + (data[0] >> 1);  // how the stream is split into reads
  std::vector<uint8_t> have(2, 0xff);
  SessionConfig cfg;
  cfg.info_hash = *parse_info_hash_hex("0102030405060708090a0b0c0d0e0f1011121314");
  cfg.peer_id = make_peer_id(1);
  cfg.num_pieces = 13;
  cfg.piece_length = 16384;
  cfg.total_length = 16384ull * 12 + 77;
  have[1] = 0xf8;
  cfg.have = &have;
  cfg.have_count = 13;
  cfg.reqq = 8;
  PeerSession s(cfg, outbound, 0);
  std::string out;
  if (outbound) s.start(out);
  // Our handshake goes first (outbound) or once theirs is in: let the peer
  // speak with a valid one half the time so the fuzzer reaches messages.
  std::string stream;
  if (data[0] & 0x80) {
    auto hs = build_bt_handshake(cfg.info_hash, make_peer_id(2));
    stream.assign(reinterpret_cast<const char*>(hs.data()), hs.size());
  }
  stream.append(reinterpret_cast<const char*>(data + 1), size - 1);
  int64_t now = 0;
  for (size_t at = 0; at < stream.size(); at += chunk) {
    size_t n = std::min<size_t>(chunk, stream.size() - at);
    now += 1'000'000;
    bool alive = s.on_receive(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(stream.data() + at), n), now,
        out);
    if (s.queued_requests() > cfg.reqq) std::abort();
    while (auto r = s.pop_request()) {
      if (r->piece >= cfg.num_pieces || r->length == 0 || r->length > 16384) std::abort();
      s.on_sent(r->length, now);
    }
    if (!alive) break;
  }
  (void)s.on_tick(now + 200'000'000'000, out);
  if (s.handshake_done()) check_framing(out, 68);
  return 0;
}
