// UDP tracker replies (BEP 15: connect, announce, scrape, error), judged
// against each request they could answer, v4 and v6.
#include <cstdint>
#include <cstdlib>

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
    }
  return 0;
}
