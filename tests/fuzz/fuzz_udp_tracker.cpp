// UDP tracker replies (BEP 15: connect, announce, scrape, error), judged
// against each request they could answer, v4 and v6.
#include <cstdint>
#include <cstdlib>

#include "engine/tracker/load_reply_check.hpp"
#include "engine/tracker/udp_messages.hpp"

using namespace swarmdial;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> d(data, size);
  uint32_t tid =
      size >= 8
          ? (uint32_t(data[4]) << 24 | uint32_t(data[5]) << 16 | uint32_t(data[6]) << 8 | data[7])
          : 0x12345678;
  for (UdpAction expect : {UdpAction::kConnect, UdpAction::kAnnounce, UdpAction::kScrape})
    for (bool v6 : {false, true}) {
      UdpReply r = parse_udp_reply(d, tid, expect, v6);
      if (auto* a = std::get_if<AnnounceResponse>(&r))
        if (a->peers.size() > TrackerReplyLimits{}.max_peers) std::abort();
      (void)parse_udp_reply(d, tid ^ 1, expect, v6);
      // The load generator's checks: a reply it accepts is whole.
      ReplyFacts f = check_udp_announce_reply(d, v6);
      if (f.verdict == ReplyVerdict::kOk && 20 + f.peers * (v6 ? 18u : 6u) != size) std::abort();
    }
  for (size_t asked : {size_t{1}, size_t{5}}) {
    ReplyFacts f = check_udp_scrape_reply(d, asked);
    if (f.verdict == ReplyVerdict::kOk && size != 8 + 12 * asked) std::abort();
  }
  return 0;
}
